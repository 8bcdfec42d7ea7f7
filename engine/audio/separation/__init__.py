"""Vocal isolation: UVR5's three model families behind one interface (base.Separator).

families.load_separator(path) picks the family by file type: .onnx MDX-Net, .pth VR
architecture (+ its model-parameter JSON), .ckpt + .yaml MDXC / RoFormer. Nothing heavy is
imported here; each family imports torch/onnxruntime when a model is loaded."""
