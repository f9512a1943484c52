"""The nets bench/cpu measures, and the Crema bench nets derived from their deploy files.

Each net is the example's deploy prototxt (an Input "data", the net, a Softmax "prob"). For
the benchmark it is rewritten at run time (`bench_net_text`):
  - the Input's batch axis becomes the benchmark's batch;
  - train: the Input also gets a "label" top (shape: batch), the final Softmax becomes a
    SoftmaxWithLoss on (logits, label) with top "loss", and BatchNorm layers lose
    `use_global_stats` (so TRAIN uses batch statistics, as training does);
  - Convolution and InnerProduct layers without a weight_filler get an MSRA one (deploy files
    have none, and all-zero weights would make every activation zero);
  - infer: the net otherwise stays the deploy net (run in the TEST phase).
Python 3 standard library only.
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (deploy prototxt relative to the repository, batch size, label)
NETS = {
    "lenet": ("examples/mnist/lenet.prototxt", 64, "LeNet"),
    "cifar10_quick": ("examples/cifar10/cifar10_quick.prototxt", 100, "CIFAR-10 quick"),
    "alexnet": ("examples/models/alexnet/deploy.prototxt", 32, "AlexNet"),
    "googlenet": ("examples/models/googlenet/deploy.prototxt", 16, "GoogLeNet"),
    "resnet50": ("examples/models/resnet50/deploy.prototxt", 16, "ResNet-50"),
    "mobilenet_v1": ("examples/models/mobilenet_v1/deploy.prototxt", 16, "MobileNet v1"),
}

# ---------------------------------------------------------------------------------------------
# Protobuf text format: a message is a list of [key, value] pairs; a value is the scalar's
# source text ('"data"', 'MAX', '0.0001') or a message.

_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{}:\[\],;<>]|[^\s{}:\[\],;<>"\'#]+')


def _tokens(text):
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"prototxt: cannot read at offset {pos}: {text[pos:pos + 20]!r}")
        token = match.group(0)
        pos = match.end()
        if token[0].isspace() or token[0] == "#":
            continue
        yield token


def parse(text):
    tokens = list(_tokens(text))
    pos = 0

    def message(closing):
        nonlocal pos
        fields = []
        while pos < len(tokens) and tokens[pos] != closing:
            key = tokens[pos]
            pos += 1
            if tokens[pos] == ":":
                pos += 1
            if tokens[pos] in ("{", "<"):
                end = "}" if tokens[pos] == "{" else ">"
                pos += 1
                fields.append([key, message(end)])
                pos += 1
            elif tokens[pos] == "[":
                pos += 1
                while tokens[pos] != "]":
                    if tokens[pos] != ",":
                        fields.append([key, tokens[pos]])
                    pos += 1
                pos += 1
            else:
                fields.append([key, tokens[pos]])
                pos += 1
            if pos < len(tokens) and tokens[pos] in (",", ";"):
                pos += 1
        return fields

    result = message(None)
    if pos != len(tokens):
        raise ValueError("prototxt: unbalanced braces")
    return result


def write(fields, indent=0):
    lines = []
    pad = "  " * indent
    for key, value in fields:
        if isinstance(value, list):
            lines.append(f"{pad}{key} {{")
            lines.extend(write(value, indent + 1))
            lines.append(f"{pad}}}")
        else:
            lines.append(f"{pad}{key}: {value}")
    return lines


def get(fields, key):
    return [value for k, value in fields if k == key]


def first(fields, key, default=None):
    values = get(fields, key)
    return values[0] if values else default


def unquote(value):
    return value[1:-1] if value and value[0] in "\"'" else value


# ---------------------------------------------------------------------------------------------


def bench_net_text(name, mode, batch=None):
    """The Crema bench net for `name` in `mode` ("train" or "infer") as prototxt text."""
    path, default_batch, _ = NETS[name]
    batch = batch or default_batch
    with open(os.path.join(ROOT, path)) as f:
        net = parse(f.read())
    layers = get(net, "layer")
    if not layers or unquote(first(layers[0], "type", "")) != "Input":
        raise ValueError(f"{path}: the first layer must be an Input")
    inputs = layers[0]
    if [unquote(t) for t in get(inputs, "top")][:1] != ["data"]:
        raise ValueError(f"{path}: the Input's first top must be \"data\"")
    shapes = get(first(inputs, "input_param"), "shape")
    for shape in shapes:
        for field in shape:
            if field[0] == "dim":
                field[1] = str(batch)
                break
    last = layers[-1]
    if mode == "train":
        if "label" not in [unquote(t) for t in get(inputs, "top")]:
            top_index = max(i for i, (k, _) in enumerate(inputs) if k == "top")
            inputs.insert(top_index + 1, ["top", '"label"'])
            first(inputs, "input_param").append(["shape", [["dim", str(batch)]]])
        if unquote(first(last, "type", "")) != "Softmax":
            raise ValueError(f"{path}: the last layer must be the Softmax")
        for field in last:
            if field[0] == "type":
                field[1] = '"SoftmaxWithLoss"'
            elif field[0] == "name":
                field[1] = '"loss"'
            elif field[0] == "top":
                field[1] = '"loss"'
        bottom_index = max(i for i, (k, _) in enumerate(last) if k == "bottom")
        last.insert(bottom_index + 1, ["bottom", '"label"'])
    for layer in layers:
        kind = unquote(first(layer, "type", ""))
        if kind == "BatchNorm" and mode == "train":
            param = first(layer, "batch_norm_param")
            if param is not None:
                param[:] = [f for f in param if f[0] != "use_global_stats"]
                if not param:
                    layer[:] = [f for f in layer if f[0] != "batch_norm_param"]
        if kind in ("Convolution", "InnerProduct"):
            key = "convolution_param" if kind == "Convolution" else "inner_product_param"
            param = first(layer, key)
            if param is not None and first(param, "weight_filler") is None:
                param.append(["weight_filler", [["type", '"msra"']]])
    header = (f"# bench/cpu: {path} for {mode}, batch {batch} (written by bench/cpu_nets.py)\n")
    return header + "\n".join(write(net)) + "\n"
