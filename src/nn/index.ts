// The training engine (DESIGN.md decision 1): graph builder, autodiff, ONNX serialization,
// layers, optimizers, compiled training programs and inference export.
export { GraphBuilder, type GraphOptions, type GraphInput, type InputKind, type FlatView } from './graph.js';
export { Tensor, type ElemType } from './tensor.js';
export type { Dim, Shape } from './shape.js';
export { Param, ParamSet, type ParamSetOptions, type Init, type FloatArray, type DType } from './params.js';
export { TrainingProgram, type CompileOptions } from './program.js';
export { serialize, OPSET, IR_VERSION } from './serialize.js';
export { adam, sgd, polyak, minimize, clipByGlobalNorm, globalNorm, flatten, type AdamOptions, type SgdOptions, type OptimizerOptions } from './optim.js';
export { linear, mlp, twinCritic, activate, type Activation, type InitKind, type LinearOptions, type MlpOptions, type TwinCriticOptions } from './layers.js';
export { exportInference, inferenceGraph, type InferenceCard, type TensorSpec } from './export.js';
export { gaussianHead, type GaussianHead, type GaussianHeadOptions } from './gaussian.js';
export { cnn, type CnnOptions } from './cnn.js';
export { imageInput, type ImageInputOptions } from './image-input.js';
