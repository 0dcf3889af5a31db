/** ONNX lowerings: quant family. */
export {};
