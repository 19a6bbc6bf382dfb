// `rshield/nn`: the training engine (docs/nn.md): graph builder, autodiff, ONNX export, layers,
// optimizers and compiled training programs.
export * from './nn/index.js';
