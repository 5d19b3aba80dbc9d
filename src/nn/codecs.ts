// The built-in layers' codecs (codec.ts), one per kind: the one table that saved models,
// tfjs and ONNX export read. A layer kind is added here, with its codec beside its class.
import { activationCodec } from "./activation.js";
import { multiHeadAttentionCodec } from "./attention.js";
import type { LayerCodec } from "./codec.js";
import { conv2dCodec } from "./conv.js";
import { denseCodec } from "./dense.js";
import { dropoutCodec } from "./dropout.js";
import { embeddingCodec } from "./embedding.js";
import { flattenCodec } from "./flatten.js";
import { modelLayerCodec } from "./model-layer.js";
import { batchNormCodec, layerNormCodec } from "./norm.js";
import { avgPool2dCodec, maxPool2dCodec } from "./pool.js";
import { randomShiftCodec } from "./random-shift.js";
import { gruCodec, lstmCodec, simpleRnnCodec } from "./recurrent.js";
import { globalAveragePoolingCodec, permuteCodec, reshapeCodec } from "./shape-layers.js";

export const LAYER_CODECS: readonly LayerCodec[] = Object.freeze([
  denseCodec, conv2dCodec, maxPool2dCodec, avgPool2dCodec, flattenCodec, dropoutCodec, randomShiftCodec, layerNormCodec, batchNormCodec,
  activationCodec, simpleRnnCodec, lstmCodec, gruCodec, reshapeCodec, permuteCodec, globalAveragePoolingCodec, multiHeadAttentionCodec, embeddingCodec,
  modelLayerCodec,
]);

const byKind = new Map(LAYER_CODECS.map((c) => [c.kind, c]));
/** The codec of a built-in layer kind, or undefined (a layer of the user's own). */
export const codecOf = (kind: string): LayerCodec | undefined => byKind.get(kind);
