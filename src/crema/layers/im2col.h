// im2col and col2im for 2-D sliding windows, shared by the layers that unroll image patches
// into a matrix (Convolution, Deconvolution, Im2col).
//
// A window has a kernel of kernel_h × kernel_w cells, padding pad_h/pad_w on both sides, a
// stride and a dilation per axis. Over an input of channels × height × width it takes
// out_height × out_width positions (floor rule):
//   out_height = (height + 2·pad_h − (dilation_h·(kernel_h − 1) + 1)) / stride_h + 1, W alike.
//
// The column matrix has channels·kernel_h·kernel_w rows and out_height·out_width columns:
//   col[(c·kernel_h + i)·kernel_w + j][y·out_width + x] =
//       image[c][y·stride_h − pad_h + i·dilation_h][x·stride_w − pad_w + j·dilation_w]
// with input cells outside the image reading as 0 (Caffe's layout: the Im2col layer's top,
// and the matrix a convolution multiplies with its (num_output, C·kernel_h·kernel_w) weights).
//
// Thread-safety: the functions are pure; they touch only the buffers passed in.
#ifndef CREMA_LAYERS_IM2COL_H_
#define CREMA_LAYERS_IM2COL_H_

#include <string>

#include "crema/proto/caffe.pb.h"

namespace crema {

// Kernel, padding, stride and dilation of a 2-D window, as a ConvolutionParameter gives them.
struct ConvKernel {
  int kernel_h = 0, kernel_w = 0;
  int pad_h = 0, pad_w = 0;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
};

// Reads kernel_size or kernel_h + kernel_w, pad or pad_h/pad_w, stride or stride_h +
// stride_w, and dilation. Each repeated field holds one value for both axes or one per axis;
// pad defaults to 0, stride and dilation to 1.
// Throws InvalidArgument, the message prefixed with "<who>: ", when no kernel is given, both
// forms of one quantity are given, a repeated field has more than two values, a kernel,
// stride or dilation is not positive, or a pad does not fit an int.
ConvKernel ParseConvKernel(const caffe::ConvolutionParameter& p, const std::string& who);

// One image's geometry and the window sliding over it.
struct Im2ColGeometry {
  int channels = 0;
  int height = 0, width = 0;
  int kernel_h = 0, kernel_w = 0;
  int pad_h = 0, pad_w = 0;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int out_height = 0, out_width = 0;
};

// Writes the column matrix of `image` (channels × height × width) into `col`.
// REQUIRES: `col` has room for channels·kernel_h·kernel_w·out_height·out_width floats.
void Im2Col(const Im2ColGeometry& g, const float* image, float* col);

// The adjoint of Im2Col: adds each column entry into the image cell it was read from
// (entries read from the padding are dropped). Zero `image` first for a plain col2im.
void Col2Im(const Im2ColGeometry& g, const float* col, float* image);

}  // namespace crema

#endif  // CREMA_LAYERS_IM2COL_H_
