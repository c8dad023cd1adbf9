#!/usr/bin/python3
"""Copy an ONNX model with the batch dim (dim 0) of its graph inputs and outputs made
symbolic ("N"), so ONNX Runtime accepts batches other than the declared one.

The featvis models declare a fixed batch of 1; featvis and PyTorch eager ignore that
(their ops are shape-agnostic), ONNX Runtime checks it. Nothing else changes.

  /usr/bin/python3 bench/onnx_symbolic_batch.py IN.onnx OUT.onnx
"""
import sys

import onnx


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model = onnx.load(sys.argv[1])
    weights = {t.name for t in model.graph.initializer}
    for value in list(model.graph.input) + list(model.graph.output):
        if value.name in weights or not value.type.tensor_type.HasField("shape"):
            continue
        dims = value.type.tensor_type.shape.dim
        if len(dims):
            dims[0].Clear()
            dims[0].dim_param = "N"
    # Intermediate shape annotations (if any) would pin the batch too: drop them.
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
