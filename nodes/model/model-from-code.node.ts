import { Script, createContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { NodeError } from '../../main/engine/errors.ts';
import { defineNode } from '../../main/engine/node-api.ts';
import { layerSummary } from '../_lib/model.ts';
import type { ModelValue } from '../_lib/ports.ts';
import { architecturePreview, memoryNote } from './cnn-builder.node.ts';

export const DEFAULT_MODEL_CODE = `// Build and return a tf.LayersModel with the tf.layers API.
// In scope: tf, inputShape ([height, width, channels]), numClasses, classes, seed.
const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape, filters: 16, kernelSize: 3, padding: 'same', activation: 'relu',
  kernelInitializer: tf.initializers.heNormal({ seed }) }));
model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu',
  kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }) }));
model.add(tf.layers.globalAveragePooling2d({}));
model.add(tf.layers.dense({ units: numClasses, activation: 'softmax',
  kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }));
return model;
`;

const FILE = 'model-code.ts';
/** The snippet is wrapped in a function so it can `return`; this many lines precede it. */
const PRELUDE_LINES = 1;

interface TsModule {
  transpileModule(input: string, options: { compilerOptions?: Record<string, unknown>; reportDiagnostics?: boolean; fileName?: string }): {
    outputText: string;
    sourceMapText?: string;
    diagnostics?: { start?: number; messageText: string | { messageText: string }; file?: { getLineAndCharacterOfPosition(pos: number): { line: number; character: number } } }[];
  };
  ScriptTarget: Record<string, number>;
  ModuleKind: Record<string, number>;
}

let tsModule: Promise<TsModule | undefined> | undefined;
/** The TypeScript compiler if it is installed (a devDependency; optional at run time). */
function loadTypeScript(): Promise<TsModule | undefined> {
  tsModule ??= import('typescript').then((m) => ((m as unknown as { default?: TsModule }).default ?? (m as unknown as TsModule)), () => undefined);
  return tsModule;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * For each generated line (0-based), the source line (0-based) of its first mapping, decoded from
 * a source map's VLQ `mappings`. The compiler drops blank lines and comments, so runtime line
 * numbers need this to point at the user's line.
 */
export function lineMap(mappings: string): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  let srcLine = 0;
  for (const line of mappings.split(';')) {
    let first: number | undefined;
    for (const seg of line.split(',')) {
      if (seg === '') continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      if (fields.length >= 3) {
        srcLine += fields[2];
        first ??= srcLine;
      }
    }
    out.push(first);
  }
  return out;
}

export interface CompiledSnippet {
  js: string;
  /** Generated line (0-based) → snippet-wrapper line (0-based). */
  lines?: (number | undefined)[];
}

/**
 * Turns the snippet into JavaScript of `function build(tf, inputShape, numClasses, classes, seed) { ... }`.
 * Syntax errors become a NodeError naming the snippet's line.
 */
export async function compileSnippet(code: string): Promise<CompiledSnippet> {
  const wrapped = `function build(tf, inputShape, numClasses, classes, seed) {\n${code}\n}`;
  const ts = await loadTypeScript();
  if (!ts) return { js: wrapped }; // Plain JavaScript still works; TypeScript syntax will fail with a line number below.
  const out = ts.transpileModule(wrapped, {
    fileName: FILE,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None, removeComments: false, sourceMap: true },
  });
  const d = out.diagnostics?.[0];
  if (d) {
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const text = typeof d.messageText === 'string' ? d.messageText : d.messageText.messageText;
    const where = pos ? `line ${pos.line + 1 - PRELUDE_LINES}, column ${pos.character + 1}: ` : '';
    throw new NodeError(`${where}${text}`, { param: 'code' });
  }
  const js = out.outputText.replace(/\n\/\/# sourceMappingURL=.*$/m, '');
  const map = out.sourceMapText ? (JSON.parse(out.sourceMapText) as { mappings: string }) : undefined;
  return { js, lines: map ? lineMap(map.mappings) : undefined };
}

/** Line (1-based, in the snippet) of the innermost stack frame in the snippet, if any. */
function snippetLine(error: unknown, lines?: (number | undefined)[]): number | undefined {
  // Errors thrown inside the vm context are not `instanceof Error` here (another realm).
  const stack = String((error as { stack?: unknown } | null)?.stack ?? '');
  const m = new RegExp(`${FILE.replace('.', '\\.')}:(\\d+)`).exec(stack);
  if (!m) return undefined;
  const generated = Number(m[1]) - 1;
  const source = lines ? lines[generated] : generated;
  return source === undefined ? undefined : source + 1 - PRELUDE_LINES;
}

/** Runs compiled snippet JS and returns whatever `build` returned. Errors name the snippet's line. */
export function runSnippet({ js, lines }: CompiledSnippet, args: { inputShape: number[]; numClasses: number; classes: string[]; seed: number }): unknown {
  let script: Script;
  try {
    script = new Script(`${js}\nbuild;`, { filename: FILE });
  } catch (error) {
    const line = snippetLine(error, lines);
    throw new NodeError(`${line ? `line ${line}: ` : ''}${(error as Error).message}`, { param: 'code' });
  }
  // Not a security boundary (trust is asked for before this runs): a separate global scope keeps
  // the snippet's top-level names out of ours, and the timeout stops a runaway loop.
  const build = script.runInContext(createContext({}), { timeout: 10_000 }) as (...a: unknown[]) => unknown;
  try {
    return build(tf, [...args.inputShape], args.numClasses, [...args.classes], args.seed);
  } catch (error) {
    const line = snippetLine(error, lines);
    const message = (error as { message?: unknown } | null)?.message;
    throw new NodeError(`${line ? `line ${line}: ` : ''}${typeof message === 'string' ? message : String(error)}`, { param: 'code' });
  }
}

const isSoftmax = (m: tf.LayersModel): boolean => {
  const last = m.layers[m.layers.length - 1];
  const cfg = last.getConfig() as { activation?: unknown };
  return last.getClassName() === 'Softmax' || cfg.activation === 'softmax';
};

export const modelFromCode = defineNode({
  id: 'dlflow:model:model-from-code',
  name: 'Model from code',
  category: 'model',
  description: [
    'Builds the model with your own TypeScript/JavaScript: the snippet gets `tf`, `inputShape`',
    '(`[height, width, channels]` of the dataset), `numClasses`, `classes` and `seed`, and returns a',
    '`tf.LayersModel` made with the `tf.layers` API. Errors point at the snippet\'s line.',
    '',
    'The model must take the dataset\'s image shape and output one value per class; a softmax is',
    'added when the last layer has none. Use `seed` in initialisers for reproducible weights.',
    '',
    '**Code runs with your rights.** It only runs when allowed: `dlflow run --allow-code`, or',
    'accepting the app\'s prompt for this file.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset', description: 'Only its image shape and classes are used.' } },
  params: {
    code: { kind: 'code', default: DEFAULT_MODEL_CODE, language: 'typescript', label: 'Code' },
    seed: { kind: 'seed', default: 1, label: 'Seed' },
  },
  outputs: { model: { type: 'model', label: 'Model' } },
  previews: ['table'],
  async run({ dataset }, params, ctx) {
    if (!ctx.allowCode)
      throw new NodeError(
        'this node runs code from the pipeline file, which is not allowed for this run; if you trust the file, run it with `dlflow run --allow-code` or accept the trust prompt in the app',
        { param: 'code' },
      );
    const compiled = await compileSnippet(params.code);
    const result = runSnippet(compiled, {
      inputShape: [...dataset.imageShape],
      numClasses: dataset.classes.length,
      classes: [...dataset.classes],
      seed: params.seed,
    });
    if (!(result instanceof tf.LayersModel))
      throw new NodeError(
        `the code must return a tf.LayersModel (e.g. tf.sequential() or tf.model(...)), it returned ${result === undefined ? 'nothing — is `return model;` missing?' : typeof result}`,
        { param: 'code' },
      );
    let model: tf.LayersModel = result;
    try {
      const inShape = model.inputs[0].shape.slice(1);
      if (model.inputs.length !== 1 || inShape.join('x') !== dataset.imageShape.join('x'))
        throw new NodeError(
          `the model takes inputs of shape [${inShape.map((d) => d ?? '?').join(', ')}] but the dataset images are [${dataset.imageShape.join(', ')}]; use \`inputShape\``,
          { param: 'code' },
        );
      const out = model.outputs[0].shape;
      if (model.outputs.length !== 1 || out.length !== 2 || out[1] !== dataset.classes.length)
        throw new NodeError(
          `the model outputs shape [${out.map((d) => d ?? '?').join(', ')}] but should output [?, ${dataset.classes.length}] (one value per class); use \`numClasses\``,
          { param: 'code' },
        );
      if (!isSoftmax(model)) {
        const probs = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(model.outputs[0]) as tf.SymbolicTensor;
        model = tf.model({ inputs: model.inputs, outputs: probs, name: model.name });
        ctx.log('the last layer had no softmax; one was added so the outputs are class probabilities');
      }
    } catch (error) {
      result.dispose();
      throw error;
    }
    const layers = layerSummary(model);
    const architecture = `code: ${model.name}`;
    ctx.preview(architecturePreview(layers, architecture, memoryNote(model)));
    const value: ModelValue = { model, inputShape: dataset.imageShape, classes: [...dataset.classes], architecture, layers };
    return { model: value };
  },
  preview: ({ model }) => architecturePreview(model.layers, model.architecture, memoryNote(model.model)),  summary: ({ model }) => `${model.model.countParams().toLocaleString('en-US')} parameters`,
});
