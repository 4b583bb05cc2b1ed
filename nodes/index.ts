// nodes: may import main/engine's node API and main/protocol, never the app, CLI, server or renderer.
/** The node library: every node type and port type the engine is given. */
import type { NodeType, PortTypeDefinition } from '../main/engine/node-api.ts';
import { allPortTypes as portTypes } from './_lib/ports.ts';
import { sampleSigns } from './data/sample-signs.node.ts';
import { split } from './data/split.node.ts';
import { evaluateClassifier } from './evaluate/evaluate-classifier.node.ts';
import { saveModel } from './export/save-model.node.ts';
import { cnnBuilder } from './model/cnn-builder.node.ts';
import { modelFromCode } from './model/model-from-code.node.ts';
import { pretrainedBackbone } from './model/pretrained-backbone.node.ts';
import { simpleCnn } from './model/simple-cnn.node.ts';
import { trainClassifier } from './train/train-classifier.node.ts';

export const allNodes: NodeType[] = [
  sampleSigns,
  split,
  simpleCnn,
  cnnBuilder,
  pretrainedBackbone,
  modelFromCode,
  trainClassifier,
  evaluateClassifier,
  saveModel,
];

export const allPortTypes: PortTypeDefinition[] = portTypes;
