// Turning a NetParameter as written into the net that is instantiated:
// phase/level/stage filtering and automatic Split insertion.
#ifndef CREMA_NET_NET_RULES_H_
#define CREMA_NET_NET_RULES_H_

#include <string>

#include "crema/proto/caffe.pb.h"

namespace crema {

// True when `state` satisfies every condition of `rule` (phase, min/max level, required and
// forbidden stages).
bool StateMeetsRule(const caffe::NetState& state, const caffe::NetStateRule& rule);

// The layers of `param` that take part in `param.state()`: a layer with include rules is kept
// when one of them is met, a layer with exclude rules is dropped when one of them is met.
// Throws InvalidArgument for a layer that has both include and exclude rules.
caffe::NetParameter FilterNet(const caffe::NetParameter& param);

// Inserts a Split layer after every top that feeds more than one bottom (or that feeds a
// bottom and is a weighted loss), renaming consumers' bottoms to the split's tops, exactly as
// Caffe names them: layer "<blob>_<layer>_<top index>_split", tops
// "<blob>_<layer>_<top index>_split_<k>". Throws InvalidArgument naming the layer for a
// bottom that no earlier layer produces.
caffe::NetParameter InsertSplits(const caffe::NetParameter& param);

std::string SplitLayerName(const std::string& layer_name, const std::string& blob_name,
                           int blob_index);
std::string SplitBlobName(const std::string& layer_name, const std::string& blob_name,
                          int blob_index, int split_index);

}  // namespace crema

#endif  // CREMA_NET_NET_RULES_H_
