// The layer classes a saved architecture can name: the built-in ones, and any a user registers
// (registerLayer) so that their models load by architecture too.
import { describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import { LAYER_CODECS } from "../nn/codecs.js";
import type { Layer } from "../nn/layer.js";

/** Makes a layer again from what its config() returned. */
export type LayerFactory = (config: Record<string, unknown>) => Layer;

// The built-in kinds from their codecs (each constructor checks the values: a file that lies gets its typed error).
const factories = new Map<string, LayerFactory>(LAYER_CODECS.map((c) => [c.kind, c.fromConfig]));

/** Lets saved architectures name a layer class of your own (its kind), made again by `factory`. */
export function registerLayer(kind: string, factory: LayerFactory): void {
  if (typeof kind !== "string" || kind === "") throw new ArgumentError(`registerLayer: kind must be a non-empty string, got ${describe(kind)}`);
  if (typeof factory !== "function") throw new ArgumentError(`registerLayer: factory must be a function, got ${describe(factory)}`);
  if (factories.has(kind)) throw new ArgumentError(`registerLayer: a layer kind ${JSON.stringify(kind)} is registered already`);
  factories.set(kind, factory);
}

/** The factory for `kind`, or undefined. */
export const layerFactory = (kind: string): LayerFactory | undefined => factories.get(kind);
