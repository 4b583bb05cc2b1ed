/**
 * A TF.js GraphModel used as a frozen feature extractor inside a LayersModel.
 *
 * Graph models (TF Hub's MobileNet v2/v3 feature vectors, converted SavedModels) cannot be
 * trained or re-serialised by TF.js, but their output can feed a new trainable head. This layer
 * runs the graph in its `call` and keeps only the path of the graph's model.json in its config;
 * the graph is loaded synchronously from disk when the layer is constructed (also when a saved
 * model is deserialised), so models containing it clone, cache and reload like any other. The
 * loaded graphs stay in memory for the life of the process (one copy per path).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

type Graph = tf.GraphModel<tf.io.IOHandlerSync>;
const graphs = new Map<string, Graph>();

/** Loads (once per process) the GraphModel whose model.json is at `modelPath`, synchronously. */
export function graphModelSync(modelPath: string): Graph {
  const cached = graphs.get(modelPath);
  if (cached) return cached;
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(readFileSync(modelPath, 'utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new Error(`cannot read the graph model ${modelPath}: ${(error as Error).message}`, { cause: error });
  }
  const shards = (json.weightsManifest ?? []).flatMap((group) => group.paths).map((p) => readFileSync(join(dirname(modelPath), p)));
  const total = shards.reduce((n, b) => n + b.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const s of shards) {
    data.set(s, at);
    at += s.byteLength;
  }
  const g = tf.loadGraphModelSync([json, data.buffer]);
  graphs.set(modelPath, g);
  return g;
}

/** Input shape [h, w, c] a graph model declares (null where it accepts any size). */
export function graphInputShape(g: Graph): (number | null)[] {
  const shape = g.inputs[0]?.shape ?? [-1, -1, -1, 3];
  return shape.slice(1).map((d) => (d === undefined || d < 0 ? null : d));
}

interface GraphFeaturesArgs {
  modelPath?: string;
  /** As saved in a model's JSON (see getConfig). */
  modelPathHex?: string;
  outputNodeHex?: string;
  /** Output node to read; empty for the graph's default output. */
  outputNode?: string;
  name?: string;
}

export class GraphFeaturesLayer extends tf.layers.Layer {
  static className = 'DlflowGraphFeatures';
  readonly modelPath: string;
  readonly outputNode: string;
  private readonly graph: Graph;

  constructor(args: GraphFeaturesArgs) {
    super({ name: args.name, trainable: false });
    const unhex = (h: string | undefined): string | undefined => (h === undefined ? undefined : Buffer.from(h, 'hex').toString('utf8'));
    const path = args.modelPath ?? unhex(args.modelPathHex);
    if (!path) throw new Error('a graph-features layer needs the path of its model.json');
    this.modelPath = path;
    this.outputNode = args.outputNode ?? unhex(args.outputNodeHex) ?? '';
    this.graph = graphModelSync(path);
  }

  private run(x: tf.Tensor): tf.Tensor {
    const out = this.outputNode ? this.graph.execute(x, this.outputNode) : this.graph.execute(x);
    return (Array.isArray(out) ? out[0] : out) as tf.Tensor;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    // Graphs often leave output dims unknown (-1): run one image to learn them.
    const probe = tf.tidy(() => this.run(tf.zeros([1, ...(s.slice(1) as number[])])).shape);
    return [s[0], ...probe.slice(1)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.run(Array.isArray(inputs) ? inputs[0] : inputs));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const base = super.getConfig();
    // Hex: the Keras JSON conversion snake-cases string values (it would mangle paths and node names).
    const hex = (t: string): string => Buffer.from(t, 'utf8').toString('hex');
    return { name: base.name, modelPathHex: hex(this.modelPath), outputNodeHex: hex(this.outputNode) };
  }
}
tf.serialization.registerClass(GraphFeaturesLayer);
