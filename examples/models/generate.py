#!/usr/bin/env python3
"""Writes the ImageNet example nets under examples/models/<name>/.

For each model: train_val.prototxt (TRAIN and TEST phases, ILSVRC-2012 LMDBs, loss and
accuracy), deploy.prototxt (an Input layer and a Softmax "prob" instead) and solver.prototxt.
Layer names follow the names the published Caffe models use (conv1, fc6, inception_3a/1x1,
res2a_branch2a, fire2/squeeze1x1, conv2_1/dw, ...) so trained .caffemodel files match layer
for layer.

    examples/models/generate.py            # rewrites every model
    examples/models/generate.py resnet50   # only the named ones

Python 3 standard library only. The generated files are committed; edit this script and
rerun it rather than editing them.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ILSVRC-2012 as LMDBs of images resized to 256x256 (`crema convert imageset -resize_width 256
# -resize_height 256 -shuffle`). The BGR channel means of the training set, rounded.
TRAIN_LMDB = "data/ilsvrc12/train_lmdb"
VAL_LMDB = "data/ilsvrc12/val_lmdb"
BGR_MEAN = (104, 117, 123)
VAL_IMAGES = 50000


# ---------------------------------------------------------------------------------------------
# Protobuf text writer.


class Enum(str):
    """A value written without quotes (an enum constant such as MAX or TRAIN)."""


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _is_message(value):
    return isinstance(value, list)


def _one_line(fields):
    """`key: v key { ... }` on one line, or None when the message is too big for that."""
    parts = []
    for key, value in fields:
        if _is_message(value):
            inner = _one_line(value)
            if inner is None:
                return None
            parts.append(f"{key} {{ {inner} }}" if inner else f"{key} {{ }}")
        else:
            parts.append(f"{key}: {_scalar(value)}")
    text = " ".join(parts)
    return text if len(text) <= 72 else None


def _write(fields, indent):
    lines = []
    pad = "  " * indent
    for key, value in fields:
        if not _is_message(value):
            lines.append(f"{pad}{key}: {_scalar(value)}")
            continue
        inner = _one_line(value)
        if inner is not None and len(pad) + len(key) + len(inner) + 6 <= 96:
            lines.append(f"{pad}{key} {{ {inner} }}")
        else:
            lines.append(f"{pad}{key} {{")
            lines.extend(_write(value, indent + 1))
            lines.append(f"{pad}}}")
    return lines


# ---------------------------------------------------------------------------------------------
# Net builder.

TRAIN, TEST = Enum("TRAIN"), Enum("TEST")
MAX, AVE = Enum("MAX"), Enum("AVE")
SUM = Enum("SUM")


def filler(kind, **fields):
    return [("type", kind)] + list(fields.items())


class Net:
    """Collects layers; `deploy` leaves out what only training needs (param specs, fillers)."""

    def __init__(self, name, deploy):
        self.name = name
        self.deploy = deploy
        self.layers = []

    def add(self, name, type_, bottoms=(), tops=(), body=None):
        fields = [("name", name), ("type", type_)]
        fields += [("bottom", b) for b in bottoms]
        fields += [("top", t) for t in tops]
        fields += body or []
        self.layers.append(fields)
        return tops[0] if tops else None

    # Layers -------------------------------------------------------------------------------

    def conv(self, name, bottom, num_output, kernel, stride=1, pad=0, group=1, bias=True,
             weight=None, bias_value=0.0, top=None, lr=(1, 2), decay=(1, 0)):
        p = [("num_output", num_output)]
        if bias is False:
            p.append(("bias_term", False))
        if pad:
            p.append(("pad", pad))
        p.append(("kernel_size", kernel))
        if stride != 1:
            p.append(("stride", stride))
        if group != 1:
            p.append(("group", group))
        body = []
        if not self.deploy:
            body.append(("param", [("lr_mult", lr[0]), ("decay_mult", decay[0])]))
            if bias:
                body.append(("param", [("lr_mult", lr[1]), ("decay_mult", decay[1])]))
            p.append(("weight_filler", weight or filler("xavier")))
            if bias:
                p.append(("bias_filler", filler("constant", value=float(bias_value))))
        body.append(("convolution_param", p))
        return self.add(name, "Convolution", [bottom], [top or name], body)

    def fc(self, name, bottom, num_output, weight=None, bias_value=0.0, top=None):
        p = [("num_output", num_output)]
        body = []
        if not self.deploy:
            body.append(("param", [("lr_mult", 1), ("decay_mult", 1)]))
            body.append(("param", [("lr_mult", 2), ("decay_mult", 0)]))
            p.append(("weight_filler", weight or filler("xavier")))
            p.append(("bias_filler", filler("constant", value=float(bias_value))))
        body.append(("inner_product_param", p))
        return self.add(name, "InnerProduct", [bottom], [top or name], body)

    def relu(self, name, blob):
        return self.add(name, "ReLU", [blob], [blob])

    def pool(self, name, bottom, method, kernel=None, stride=1, pad=0, global_pool=False,
             top=None):
        p = [("pool", method)]
        if global_pool:
            p.append(("global_pooling", True))
        else:
            p.append(("kernel_size", kernel))
            if stride != 1:
                p.append(("stride", stride))
            if pad:
                p.append(("pad", pad))
        return self.add(name, "Pooling", [bottom], [top or name], [("pooling_param", p)])

    def lrn(self, name, bottom, top=None):
        p = [("local_size", 5), ("alpha", 0.0001), ("beta", 0.75)]
        return self.add(name, "LRN", [bottom], [top or name], [("lrn_param", p)])

    def dropout(self, name, blob, ratio):
        body = [("dropout_param", [("dropout_ratio", ratio)])]
        return self.add(name, "Dropout", [blob], [blob], body)

    def concat(self, name, bottoms, top=None):
        return self.add(name, "Concat", bottoms, [top or name])

    def batch_norm_scale(self, bn_name, scale_name, blob):
        """BatchNorm (running statistics; global ones in deploy) + Scale with a bias, in place."""
        bn = [("batch_norm_param", [("use_global_stats", True)])] if self.deploy else []
        self.add(bn_name, "BatchNorm", [blob], [blob], bn)
        self.add(scale_name, "Scale", [blob], [blob], [("scale_param", [("bias_term", True)])])
        return blob

    # Inputs and outputs -------------------------------------------------------------------

    def data(self, crop, train_batch, test_batch, mean=BGR_MEAN, scale=None):
        for phase, source, batch in ((TRAIN, TRAIN_LMDB, train_batch),
                                     (TEST, VAL_LMDB, test_batch)):
            transform = [("mirror", phase == TRAIN), ("crop_size", crop)]
            transform += [("mean_value", m) for m in mean]
            if scale is not None:
                transform.append(("scale", scale))
            self.add("data", "Data", [], ["data", "label"], [
                ("include", [("phase", phase)]),
                ("transform_param", transform),
                ("data_param", [("source", source), ("batch_size", batch),
                                ("backend", Enum("LMDB"))]),
            ])

    def input(self, batch, size):
        shape = [("dim", batch), ("dim", 3), ("dim", size), ("dim", size)]
        self.add("data", "Input", [], ["data"], [("input_param", [("shape", shape)])])

    def loss_and_accuracy(self, logits, prefix="", loss_name="loss", loss_top="loss",
                          loss_weight=None, accuracy_names=("accuracy", "accuracy_top5")):
        body = [("loss_weight", loss_weight)] if loss_weight is not None else []
        self.add(prefix + loss_name, "SoftmaxWithLoss", [logits, "label"], [prefix + loss_top],
                 body)
        for k, name in zip((1, 5), accuracy_names):
            body = [("include", [("phase", TEST)])]
            if k != 1:
                body.append(("accuracy_param", [("top_k", k)]))
            self.add(prefix + name, "Accuracy", [logits, "label"], [prefix + name], body)

    def text(self, header):
        lines = ["# " + line if line else "#" for line in header.strip().split("\n")]
        lines.append("# Written by examples/models/generate.py; edit that script and rerun it.")
        lines.append(f'name: "{self.name}"')
        for fields in self.layers:
            lines.append("layer {")
            lines.extend(_write(fields, 1))
            lines.append("}")
        return "\n".join(lines) + "\n"


def solver_text(header, fields):
    lines = ["# " + line if line else "#" for line in header.strip().split("\n")]
    lines.append("# Written by examples/models/generate.py; edit that script and rerun it.")
    lines.extend(_write(fields, 0))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# AlexNet and CaffeNet.


def alexnet(net, caffenet):
    g = lambda std: filler("gaussian", std=std)  # noqa: E731
    # CaffeNet: pooling before normalisation, biases of 1 where AlexNet has 0.1.
    one = 1.0 if caffenet else 0.1
    x = net.conv("conv1", "data", 96, 11, stride=4, weight=g(0.01), bias_value=0)
    net.relu("relu1", x)
    if caffenet:
        x = net.pool("pool1", x, MAX, 3, 2)
        x = net.lrn("norm1", x)
    else:
        x = net.lrn("norm1", x)
        x = net.pool("pool1", x, MAX, 3, 2)
    x = net.conv("conv2", x, 256, 5, pad=2, group=2, weight=g(0.01), bias_value=one)
    net.relu("relu2", x)
    if caffenet:
        x = net.pool("pool2", x, MAX, 3, 2)
        x = net.lrn("norm2", x)
    else:
        x = net.lrn("norm2", x)
        x = net.pool("pool2", x, MAX, 3, 2)
    x = net.conv("conv3", x, 384, 3, pad=1, weight=g(0.01), bias_value=0)
    net.relu("relu3", x)
    x = net.conv("conv4", x, 384, 3, pad=1, group=2, weight=g(0.01), bias_value=one)
    net.relu("relu4", x)
    x = net.conv("conv5", x, 256, 3, pad=1, group=2, weight=g(0.01), bias_value=one)
    net.relu("relu5", x)
    x = net.pool("pool5", x, MAX, 3, 2)
    x = net.fc("fc6", x, 4096, weight=g(0.005), bias_value=one)
    net.relu("relu6", x)
    net.dropout("drop6", x, 0.5)
    x = net.fc("fc7", x, 4096, weight=g(0.005), bias_value=one)
    net.relu("relu7", x)
    net.dropout("drop7", x, 0.5)
    return net.fc("fc8", x, 1000, weight=g(0.01), bias_value=0)


def write_alexnet(name, caffenet):
    title = "CaffeNet" if caffenet else "AlexNet"
    about = (
        "CaffeNet: AlexNet as BVLC trained it for Caffe's reference model, with pooling before\n"
        "local response normalisation (conv -> relu -> pool -> norm) in the first two stages.\n"
        if caffenet else
        "AlexNet (Krizhevsky, Sutskever and Hinton, NIPS 2012) as BVLC's Caffe release has it:\n"
        "LRN before pooling, conv2/conv4/conv5 in two groups (the two GPUs of the paper).\n")
    about += "60,965,224 learnable parameters; input 3x227x227."
    models = {}
    for deploy in (False, True):
        net = Net(title, deploy)
        if deploy:
            net.input(10, 227)
        else:
            net.data(227, 256, 50)
        logits = alexnet(net, caffenet)
        if deploy:
            net.add("prob", "Softmax", [logits], ["prob"])
        else:
            net.loss_and_accuracy(logits, accuracy_names=("accuracy", "accuracy_top5"))
        models[deploy] = net.text(about)
    # BVLC's recipe: batch 256, lr 0.01 divided by 10 every 100,000 iterations, 450,000 in all
    # (about 90 epochs).
    solver = solver_text(
        f"{title} on ILSVRC-2012, BVLC's recipe: SGD with momentum, batch 256, learning rate\n"
        "0.01 divided by 10 every 100,000 iterations (about 20 epochs), 450,000 iterations.",
        [("net", f"examples/models/{name}/train_val.prototxt"),
         ("test_iter", VAL_IMAGES // 50), ("test_interval", 10000 if not caffenet else 1000),
         ("base_lr", 0.01), ("lr_policy", "step"), ("gamma", 0.1), ("stepsize", 100000),
         ("display", 20), ("max_iter", 450000), ("momentum", 0.9), ("weight_decay", 0.0005),
         ("snapshot", 10000), ("snapshot_prefix", f"out/models/{name}/{name}"),
         ("solver_mode", Enum("CPU"))])
    return models[False], models[True], solver


# ---------------------------------------------------------------------------------------------
# GoogLeNet.

# (name, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection), Table 1 of the paper.
INCEPTIONS = [
    ("3a", 64, 96, 128, 16, 32, 32),
    ("3b", 128, 128, 192, 32, 96, 64),
    ("4a", 192, 96, 208, 16, 48, 64),
    ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64),
    ("4d", 112, 144, 288, 32, 64, 64),
    ("4e", 256, 160, 320, 32, 128, 128),
    ("5a", 256, 160, 320, 32, 128, 128),
    ("5b", 384, 192, 384, 48, 128, 128),
]


def inception(net, bottom, spec):
    name, n1, n3r, n3, n5r, n5, npool = spec
    p = f"inception_{name}/"
    outs = []
    for branch, layers in (
        ("1x1", [("1x1", n1, 1, 0)]),
        ("3x3", [("3x3_reduce", n3r, 1, 0), ("3x3", n3, 3, 1)]),
        ("5x5", [("5x5_reduce", n5r, 1, 0), ("5x5", n5, 5, 2)]),
    ):
        x = bottom
        for lname, num, kernel, pad in layers:
            x = net.conv(p + lname, x, num, kernel, pad=pad, bias_value=0.2)
            net.relu(p + "relu_" + lname, x)
        outs.append(x)
    x = net.pool(p + "pool", bottom, MAX, 3, 1, pad=1)
    x = net.conv(p + "pool_proj", x, npool, 1, bias_value=0.2)
    net.relu(p + "relu_pool_proj", x)
    outs.append(x)
    return net.concat(p + "output", outs)


def auxiliary_classifier(net, bottom, k):
    """The side classifier on inception 4a (loss1) or 4d (loss2); weight 0.3 in the loss."""
    p = f"loss{k}/"
    x = net.pool(p + "ave_pool", bottom, AVE, 5, 3)
    x = net.conv(p + "conv", x, 128, 1, bias_value=0.2)
    net.relu(p + "relu_conv", x)
    x = net.fc(p + "fc", x, 1024, bias_value=0.2)
    net.relu(p + "relu_fc", x)
    net.dropout(p + "drop_fc", x, 0.7)
    x = net.fc(p + "classifier", x, 1000)
    net.loss_and_accuracy(x, prefix=p, loss_name="loss", loss_top=f"loss{k}", loss_weight=0.3,
                          accuracy_names=("top-1", "top-5"))


def write_googlenet():
    about = (
        "GoogLeNet (Szegedy et al., \"Going deeper with convolutions\", CVPR 2015) as BVLC's\n"
        "Caffe release has it. train_val has the two auxiliary classifiers (loss1 on\n"
        "inception_4a, loss2 on inception_4d, each weighted 0.3); deploy has the main one only.\n"
        "Learnable parameters: 6,998,552 (deploy), 13,378,280 (train_val, with the auxiliaries).\n"
        "Input 3x224x224.")
    models = {}
    for deploy in (False, True):
        net = Net("GoogleNet", deploy)
        if deploy:
            net.input(10, 224)
        else:
            net.data(224, 32, 50)
        x = net.conv("conv1/7x7_s2", "data", 64, 7, stride=2, pad=3, bias_value=0.2)
        net.relu("conv1/relu_7x7", x)
        x = net.pool("pool1/3x3_s2", x, MAX, 3, 2)
        x = net.lrn("pool1/norm1", x)
        x = net.conv("conv2/3x3_reduce", x, 64, 1, bias_value=0.2)
        net.relu("conv2/relu_3x3_reduce", x)
        x = net.conv("conv2/3x3", x, 192, 3, pad=1, bias_value=0.2)
        net.relu("conv2/relu_3x3", x)
        x = net.lrn("conv2/norm2", x)
        x = net.pool("pool2/3x3_s2", x, MAX, 3, 2)
        for spec in INCEPTIONS:
            if spec[0] == "4a":
                x = net.pool("pool3/3x3_s2", x, MAX, 3, 2)
            if spec[0] == "5a":
                x = net.pool("pool4/3x3_s2", x, MAX, 3, 2)
            x = inception(net, x, spec)
            if not deploy and spec[0] in ("4a", "4d"):
                auxiliary_classifier(net, x, 1 if spec[0] == "4a" else 2)
        x = net.pool("pool5/7x7_s1", x, AVE, 7, 1)
        net.dropout("pool5/drop_7x7_s1", x, 0.4)
        x = net.fc("loss3/classifier", x, 1000)
        if deploy:
            net.add("prob", "Softmax", [x], ["prob"])
        else:
            net.loss_and_accuracy(x, prefix="loss3/", loss_name="loss3", loss_top="loss3",
                                  loss_weight=1.0, accuracy_names=("top-1", "top-5"))
        models[deploy] = net.text(about)
    solver = solver_text(
        "GoogLeNet on ILSVRC-2012, BVLC's quick recipe: batch 32, learning rate 0.01 decaying\n"
        "polynomially (power 0.5) to 0 over 2,400,000 iterations (about 60 epochs).",
        [("net", "examples/models/googlenet/train_val.prototxt"),
         ("test_iter", VAL_IMAGES // 50), ("test_interval", 4000), ("test_initialization", False),
         ("display", 40), ("average_loss", 40), ("base_lr", 0.01), ("lr_policy", "poly"),
         ("power", 0.5), ("max_iter", 2400000), ("momentum", 0.9), ("weight_decay", 0.0002),
         ("snapshot", 40000), ("snapshot_prefix", "out/models/googlenet/googlenet"),
         ("solver_mode", Enum("CPU"))])
    return models[False], models[True], solver


# ---------------------------------------------------------------------------------------------
# VGG-16.

VGG16_STAGES = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]


def write_vgg16():
    about = (
        "VGG-16 (Simonyan and Zisserman, \"Very deep convolutional networks for large-scale\n"
        "image recognition\", ICLR 2015; configuration D): thirteen 3x3 convolutions in five\n"
        "stages, each closed by 2x2 max pooling, then three fully connected layers.\n"
        "138,357,544 learnable parameters; input 3x224x224.")
    models = {}
    for deploy in (False, True):
        net = Net("VGG_ILSVRC_16_layers", deploy)
        if deploy:
            net.input(10, 224)
        else:
            net.data(224, 64, 50)
        x = "data"
        for stage, (channels, count) in enumerate(VGG16_STAGES, start=1):
            for i in range(1, count + 1):
                x = net.conv(f"conv{stage}_{i}", x, channels, 3, pad=1)
                net.relu(f"relu{stage}_{i}", x)
            x = net.pool(f"pool{stage}", x, MAX, 2, 2)
        for i in (6, 7):
            x = net.fc(f"fc{i}", x, 4096, weight=filler("gaussian", std=0.005), bias_value=0.1)
            net.relu(f"relu{i}", x)
            net.dropout(f"drop{i}", x, 0.5)
        x = net.fc("fc8", x, 1000, weight=filler("gaussian", std=0.01))
        if deploy:
            net.add("prob", "Softmax", [x], ["prob"])
        else:
            net.loss_and_accuracy(x)
        models[deploy] = net.text(about)
    solver = solver_text(
        "VGG-16 on ILSVRC-2012 with the paper's hyper-parameters: batch 256 (64 x iter_size 4),\n"
        "momentum 0.9, weight decay 5e-4, learning rate 0.01 divided by 10 three times (the\n"
        "paper divided it when validation accuracy stopped improving: about every 25 epochs).",
        [("net", "examples/models/vgg16/train_val.prototxt"),
         ("test_iter", VAL_IMAGES // 50), ("test_interval", 5000), ("iter_size", 4),
         ("base_lr", 0.01), ("lr_policy", "multistep"), ("gamma", 0.1),
         ("stepvalue", 125000), ("stepvalue", 250000), ("stepvalue", 325000),
         ("display", 20), ("average_loss", 20), ("max_iter", 370000), ("momentum", 0.9),
         ("weight_decay", 0.0005), ("snapshot", 5000),
         ("snapshot_prefix", "out/models/vgg16/vgg16"), ("solver_mode", Enum("CPU"))])
    return models[False], models[True], solver


# ---------------------------------------------------------------------------------------------
# ResNet-50.

# (stage, blocks, bottleneck width, output width, stride of the first block)
RESNET50_STAGES = [(2, 3, 64, 256, 1), (3, 4, 128, 512, 2), (4, 6, 256, 1024, 2),
                   (5, 3, 512, 2048, 2)]


def resnet_conv(net, name, bn_suffix, bottom, num, kernel, stride=1, pad=0, relu=True,
                bias=False):
    """Convolution (without bias but conv1) + BatchNorm + Scale (+ ReLU), as the release."""
    x = net.conv(name, bottom, num, kernel, stride=stride, pad=pad, bias=bias,
                 weight=filler("msra"))
    net.batch_norm_scale("bn" + bn_suffix, "scale" + bn_suffix, x)
    if relu:
        net.relu(name + "_relu", x)
    return x


def write_resnet50():
    about = (
        "ResNet-50 (He, Zhang, Ren and Sun, \"Deep residual learning for image recognition\",\n"
        "CVPR 2016) laid out as the authors' Caffe release: bottleneck blocks whose convolutions\n"
        "have no bias (conv1 alone has one, as in the release, so its caffemodel loads) and are\n"
        "followed by BatchNorm and Scale (with bias); a projection shortcut (branch1) opens each\n"
        "stage; the stride-2 subsampling sits in branch2a's 1x1 convolution.\n"
        "25,557,096 learnable parameters (and 53,173 BatchNorm statistics); input 3x224x224.")
    models = {}
    for deploy in (False, True):
        net = Net("ResNet-50", deploy)
        if deploy:
            net.input(1, 224)
        else:
            net.data(224, 32, 50)
        x = resnet_conv(net, "conv1", "_conv1", "data", 64, 7, stride=2, pad=3, bias=True)
        x = net.pool("pool1", x, MAX, 3, 2)
        for stage, blocks, width, out, stride in RESNET50_STAGES:
            for b in range(blocks):
                block = f"{stage}{chr(ord('a') + b)}"
                s = stride if b == 0 else 1
                if b == 0:
                    shortcut = resnet_conv(net, f"res{block}_branch1", f"{block}_branch1", x, out,
                                           1, stride=s, relu=False)
                else:
                    shortcut = x
                y = resnet_conv(net, f"res{block}_branch2a", f"{block}_branch2a", x, width, 1,
                                stride=s)
                y = resnet_conv(net, f"res{block}_branch2b", f"{block}_branch2b", y, width, 3,
                                pad=1)
                y = resnet_conv(net, f"res{block}_branch2c", f"{block}_branch2c", y, out, 1,
                                relu=False)
                x = net.add(f"res{block}", "Eltwise", [shortcut, y], [f"res{block}"])
                net.relu(f"res{block}_relu", x)
        x = net.pool("pool5", x, AVE, 7, 1)
        x = net.fc("fc1000", x, 1000, weight=filler("msra"))
        if deploy:
            net.add("prob", "Softmax", [x], ["prob"])
        else:
            net.loss_and_accuracy(x)
        models[deploy] = net.text(about)
    solver = solver_text(
        "ResNet-50 on ILSVRC-2012 with the paper's hyper-parameters: batch 256 (32 x iter_size\n"
        "8), momentum 0.9, weight decay 1e-4, learning rate 0.1 divided by 10 at 30 and 60\n"
        "epochs, 90 epochs in all (450,000 iterations of 256 images).",
        [("net", "examples/models/resnet50/train_val.prototxt"),
         ("test_iter", VAL_IMAGES // 50), ("test_interval", 5000), ("iter_size", 8),
         ("base_lr", 0.1), ("lr_policy", "multistep"), ("gamma", 0.1),
         ("stepvalue", 150000), ("stepvalue", 300000),
         ("display", 20), ("average_loss", 20), ("max_iter", 450000), ("momentum", 0.9),
         ("weight_decay", 0.0001), ("snapshot", 5000),
         ("snapshot_prefix", "out/models/resnet50/resnet50"), ("solver_mode", Enum("CPU"))])
    return models[False], models[True], solver


# ---------------------------------------------------------------------------------------------
# SqueezeNet 1.1.

# (fire module, squeeze 1x1, expand 1x1 = expand 3x3); max pooling after fire3 and fire5.
SQUEEZE_FIRES = [(2, 16, 64), (3, 16, 64), (4, 32, 128), (5, 32, 128), (6, 48, 192),
                 (7, 48, 192), (8, 64, 256), (9, 64, 256)]


def write_squeezenet():
    about = (
        "SqueezeNet 1.1 (Iandola et al., \"SqueezeNet: AlexNet-level accuracy with 50x fewer\n"
        "parameters\"; version 1.1 of the authors' Caffe release: 3x3 conv1 with 64 filters,\n"
        "pooling moved earlier, 2.4x less computation than 1.0). Fire modules squeeze with 1x1\n"
        "convolutions and expand with 1x1 and 3x3 convolutions concatenated.\n"
        "1,235,496 learnable parameters; input 3x227x227.")
    models = {}
    for deploy in (False, True):
        net = Net("SqueezeNet_v1.1", deploy)
        if deploy:
            net.input(10, 227)
        else:
            net.data(227, 32, 25)
        x = net.conv("conv1", "data", 64, 3, stride=2)
        net.relu("relu_conv1", x)
        x = net.pool("pool1", x, MAX, 3, 2)
        for fire, squeeze, expand in SQUEEZE_FIRES:
            p = f"fire{fire}/"
            s = net.conv(p + "squeeze1x1", x, squeeze, 1)
            net.relu(p + "relu_squeeze1x1", s)
            e1 = net.conv(p + "expand1x1", s, expand, 1)
            net.relu(p + "relu_expand1x1", e1)
            e3 = net.conv(p + "expand3x3", s, expand, 3, pad=1)
            net.relu(p + "relu_expand3x3", e3)
            x = net.concat(p + "concat", [e1, e3])
            if fire in (3, 5):
                x = net.pool(f"pool{fire}", x, MAX, 3, 2)
        net.dropout("drop9", x, 0.5)
        x = net.conv("conv10", x, 1000, 1, weight=filler("gaussian", mean=0.0, std=0.01))
        net.relu("relu_conv10", x)
        x = net.pool("pool10", x, AVE, global_pool=True)
        if deploy:
            net.add("prob", "Softmax", [x], ["prob"])
        else:
            net.loss_and_accuracy(x)
        models[deploy] = net.text(about)
    solver = solver_text(
        "SqueezeNet 1.1 on ILSVRC-2012, the authors' recipe: batch 512 (32 x iter_size 16),\n"
        "learning rate 0.04 decaying linearly to 0 over 170,000 iterations (about 68 epochs).",
        [("net", "examples/models/squeezenet1.1/train_val.prototxt"),
         ("test_iter", VAL_IMAGES // 25), ("test_interval", 1000), ("test_initialization", False),
         ("iter_size", 16), ("base_lr", 0.04), ("lr_policy", "poly"), ("power", 1.0),
         ("display", 40), ("average_loss", 40), ("max_iter", 170000), ("momentum", 0.9),
         ("weight_decay", 0.0002), ("snapshot", 1000),
         ("snapshot_prefix", "out/models/squeezenet1.1/squeezenet1.1"),
         ("solver_mode", Enum("CPU"))])
    return models[False], models[True], solver


# ---------------------------------------------------------------------------------------------
# MobileNet v1.

# (block name, output channels, stride of the depthwise convolution), Table 1 of the paper.
MOBILENET_BLOCKS = [("2_1", 64, 1), ("2_2", 128, 2), ("3_1", 128, 1), ("3_2", 256, 2),
                    ("4_1", 256, 1), ("4_2", 512, 2), ("5_1", 512, 1), ("5_2", 512, 1),
                    ("5_3", 512, 1), ("5_4", 512, 1), ("5_5", 512, 1), ("5_6", 1024, 2),
                    ("6", 1024, 1)]


def write_mobilenet():
    about = (
        "MobileNet v1, width 1.0, 224x224 (Howard et al., \"MobileNets: Efficient convolutional\n"
        "neural networks for mobile vision applications\", 2017). Each block is a 3x3 depthwise\n"
        "convolution (a Convolution whose group equals its channels) and a 1x1 pointwise one,\n"
        "both without bias and followed by BatchNorm + Scale (with bias) + ReLU. The classifier\n"
        "fc7 is a 1x1 convolution, as in the widely used Caffe conversion of the model.\n"
        "4,231,976 learnable parameters (and 21,915 BatchNorm statistics); input 3x224x224\n"
        "with the BGR means subtracted and scaled by 0.017.")
    models = {}
    for deploy in (False, True):
        net = Net("MobileNet", deploy)
        if deploy:
            net.input(1, 224)
        else:
            net.data(224, 64, 50, mean=(103.94, 116.78, 123.68), scale=0.017)

        def unit(name, suffix, bottom, num, kernel, stride=1, pad=0, group=1, decay=1):
            # The paper puts little or no weight decay on the depthwise filters: decay_mult 0.
            x = net.conv(name, bottom, num, kernel, stride=stride, pad=pad, group=group,
                         bias=False, weight=filler("msra"), decay=(decay, 0))
            net.batch_norm_scale(name + "/bn", name + "/scale", x)
            net.relu("relu" + suffix, x)
            return x

        x = unit("conv1", "1", "data", 32, 3, stride=2, pad=1)
        channels = 32
        for block, out, stride in MOBILENET_BLOCKS:
            x = unit(f"conv{block}/dw", f"{block}/dw", x, channels, 3, stride=stride, pad=1,
                     group=channels, decay=0)
            x = unit(f"conv{block}/sep", f"{block}/sep", x, out, 1)
            channels = out
        x = net.pool("pool6", x, AVE, global_pool=True)
        x = net.conv("fc7", x, 1000, 1, weight=filler("msra"))
        if deploy:
            net.add("prob", "Softmax", [x], ["prob"])
        else:
            net.loss_and_accuracy(x)
        models[deploy] = net.text(about)
    solver = solver_text(
        "MobileNet v1 on ILSVRC-2012: batch 256 (64 x iter_size 4), SGD with momentum 0.9,\n"
        "learning rate 0.1 decaying linearly to 0 over 150 epochs (750,000 iterations), weight\n"
        "decay 4e-5 (none on the depthwise filters, see train_val.prototxt).",
        [("net", "examples/models/mobilenet_v1/train_val.prototxt"),
         ("test_iter", VAL_IMAGES // 50), ("test_interval", 5000), ("test_initialization", False),
         ("iter_size", 4), ("base_lr", 0.1), ("lr_policy", "poly"), ("power", 1.0),
         ("display", 20), ("average_loss", 20), ("max_iter", 750000), ("momentum", 0.9),
         ("weight_decay", 0.00004), ("snapshot", 5000),
         ("snapshot_prefix", "out/models/mobilenet_v1/mobilenet_v1"),
         ("solver_mode", Enum("CPU"))])
    return models[False], models[True], solver


# ---------------------------------------------------------------------------------------------

MODELS = {
    "alexnet": lambda: write_alexnet("alexnet", caffenet=False),
    "caffenet": lambda: write_alexnet("caffenet", caffenet=True),
    "googlenet": write_googlenet,
    "vgg16": write_vgg16,
    "resnet50": write_resnet50,
    "squeezenet1.1": write_squeezenet,
    "mobilenet_v1": write_mobilenet,
}


def main(names):
    for name in names or MODELS:
        if name not in MODELS:
            sys.exit(f"generate.py: unknown model '{name}' (known: {', '.join(MODELS)})")
        train_val, deploy, solver = MODELS[name]()
        folder = os.path.join(HERE, name)
        os.makedirs(folder, exist_ok=True)
        for file, text in (("train_val.prototxt", train_val), ("deploy.prototxt", deploy),
                           ("solver.prototxt", solver)):
            with open(os.path.join(folder, file), "w") as out:
                out.write(text)
        print(f"wrote examples/models/{name}/{{train_val,deploy,solver}}.prototxt")


if __name__ == "__main__":
    main(sys.argv[1:])
