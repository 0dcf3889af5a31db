/** ONNX lowerings: reduce family. */
export {};
