/** ONNX lowerings: special family. */
export {};
