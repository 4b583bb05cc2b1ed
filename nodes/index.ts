// nodes: may import main/engine's node API and main/protocol, never the app, CLI, server or renderer.
/** The node library: every node type and port type the engine is given. */
import type { NodeType, PortTypeDefinition } from '../main/engine/node-api.ts';
import { allPortTypes as portTypes } from './_lib/ports.ts';
import { augment } from './augment/augment.node.ts';
import { colourJitter } from './augment/colour-jitter.node.ts';
import { cutout } from './augment/cutout.node.ts';
import { fog } from './augment/fog.node.ts';
import { gaussianNoise } from './augment/gaussian-noise.node.ts';
import { lensDistortion } from './augment/lens-distortion.node.ts';
import { materialiseAugmentations } from './augment/materialise-augmentations.node.ts';
import { night } from './augment/night.node.ts';
import { rain } from './augment/rain.node.ts';
import { randomBlur } from './augment/random-blur.node.ts';
import { randomCrop } from './augment/random-crop.node.ts';
import { randomFlip } from './augment/random-flip.node.ts';
import { randomRotate } from './augment/random-rotate.node.ts';
import { randomScale } from './augment/random-scale.node.ts';
import { randomShear } from './augment/random-shear.node.ts';
import { randomStretch } from './augment/random-stretch.node.ts';
import { randomTranslate } from './augment/random-translate.node.ts';
import { snow } from './augment/snow.node.ts';
import { csvManifest } from './data/csv-manifest.node.ts';
import { datasetHealthNode } from './data/dataset-health.node.ts';
import { idxFiles } from './data/idx-files.node.ts';
import { imageFolder } from './data/image-folder.node.ts';
import { sampleSigns } from './data/sample-signs.node.ts';
import { split } from './data/split.node.ts';
import { evaluateClassifier } from './evaluate/evaluate-classifier.node.ts';
import { saveModel } from './export/save-model.node.ts';
import { cnnBuilder } from './model/cnn-builder.node.ts';
import { modelFromCode } from './model/model-from-code.node.ts';
import { pretrainedBackbone } from './model/pretrained-backbone.node.ts';
import { simpleCnn } from './model/simple-cnn.node.ts';
import { balanceClasses } from './preprocess/balance-classes.node.ts';
import { colourMode } from './preprocess/colour-mode.node.ts';
import { normalise } from './preprocess/normalise.node.ts';
import { resize } from './preprocess/resize.node.ts';
import { trainClassifier } from './train/train-classifier.node.ts';

export const allNodes: NodeType[] = [
  sampleSigns,
  imageFolder,
  csvManifest,
  idxFiles,
  datasetHealthNode,
  split,
  resize,
  colourMode,
  normalise,
  balanceClasses,
  augment,
  randomFlip,
  randomScale,
  randomCrop,
  randomTranslate,
  randomRotate,
  randomStretch,
  randomShear,
  lensDistortion,
  colourJitter,
  gaussianNoise,
  randomBlur,
  cutout,
  fog,
  rain,
  snow,
  night,
  materialiseAugmentations,
  simpleCnn,
  cnnBuilder,
  pretrainedBackbone,
  modelFromCode,
  trainClassifier,
  evaluateClassifier,
  saveModel,
];

export const allPortTypes: PortTypeDefinition[] = portTypes;
