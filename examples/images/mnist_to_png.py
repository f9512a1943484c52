"""Writes MNIST digits as PNG files plus Caffe list files, for the ImageData example.

    /usr/bin/python3 examples/images/mnist_to_png.py RAW_DIR OUT_DIR TRAIN_COUNT TEST_COUNT

RAW_DIR holds the four IDX files (scripts/fetch-mnist puts them in data/mnist/raw). Writes
OUT_DIR/{train,test}/<label>/<index>.png (8-bit grey) and OUT_DIR/{train,test}.txt with lines
"train/<label>/<index>.png <label>". Standard library only.
"""
import os
import struct
import sys
import zlib


def png_bytes(pixels, rows, cols):
    """An 8-bit greyscale PNG of `rows` x `cols` bytes."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + pixels[r * cols:(r + 1) * cols] for r in range(rows))
    header = struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) +
            chunk(b"IEND", b""))


def read_idx(images_path, labels_path):
    with open(images_path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            sys.exit(f"{images_path}: not an IDX image file (magic {magic})")
        images = f.read(count * rows * cols)
    with open(labels_path, "rb") as f:
        magic, label_count = struct.unpack(">II", f.read(8))
        if magic != 2049 or label_count != count:
            sys.exit(f"{labels_path}: not the label file of {images_path}")
        labels = f.read(count)
    return images, labels, count, rows, cols


def export(raw_dir, prefix, out_dir, split, limit):
    images, labels, count, rows, cols = read_idx(
        os.path.join(raw_dir, f"{prefix}-images-idx3-ubyte"),
        os.path.join(raw_dir, f"{prefix}-labels-idx1-ubyte"))
    size = rows * cols
    lines = []
    for i in range(min(limit, count)):
        label = labels[i]
        rel = f"{split}/{label}/{i:05d}.png"
        path = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png_bytes(images[i * size:(i + 1) * size], rows, cols))
        lines.append(f"{rel} {label}\n")
    with open(os.path.join(out_dir, f"{split}.txt"), "w") as f:
        f.writelines(lines)
    return len(lines)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    raw_dir, out_dir, train_count, test_count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    n_train = export(raw_dir, "train", out_dir, "train", train_count)
    n_test = export(raw_dir, "t10k", out_dir, "test", test_count)
    print(f"wrote {n_train} training and {n_test} test PNGs under {out_dir}")


if __name__ == "__main__":
    main()
