/** ONNX lowerings: nn family. */
export {};
