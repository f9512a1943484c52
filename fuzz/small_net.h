// The small fixed net the weight and solver-state targets load into: every kind of parameter
// blob a .caffemodel commonly holds (convolution with bias, BatchNorm statistics, Scale with
// bias, PReLU slopes, InnerProduct), on a 1×2×6×6 input. fuzz/corpus/ holds its weights.
#ifndef CREMA_FUZZ_SMALL_NET_H_
#define CREMA_FUZZ_SMALL_NET_H_

namespace crema::fuzz {

inline constexpr char kSmallNet[] = R"pb(
name: "fuzz_small"
layer { name: "data" type: "Input" top: "data"
        input_param { shape { dim: 1 dim: 2 dim: 6 dim: 6 } } }
layer { name: "label" type: "Input" top: "label" input_param { shape { dim: 1 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 3 kernel_size: 3
                            weight_filler { type: "xavier" } } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1"
        scale_param { bias_term: true } }
layer { name: "prelu1" type: "PReLU" bottom: "conv1" top: "conv1" }
layer { name: "ip1" type: "InnerProduct" bottom: "conv1" top: "ip1"
        inner_product_param { num_output: 4 weight_filler { type: "xavier" } } }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
        inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
)pb";

}  // namespace crema::fuzz

#endif  // CREMA_FUZZ_SMALL_NET_H_
