/** ONNX lowerings: tensor family. */
export {};
