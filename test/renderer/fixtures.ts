// Shared fixtures for renderer logic tests: a small catalog and document.
import type { DlflowDocument, NodeCatalog } from '../../main/protocol/index.ts';

export const catalog: NodeCatalog = {
  portTypes: [
    { id: 'dataset', label: 'Dataset', color: '#4caf50' },
    { id: 'model', label: 'Model', color: '#ff9800' },
  ],
  nodes: [
    {
      id: 'test:data:load',
      version: 1,
      name: 'Load',
      category: 'data',
      description: 'loads',
      inputs: {},
      outputs: { dataset: { type: 'dataset' } },
      params: { count: { kind: 'integer', default: 10, min: 1, max: 100, inline: true }, seed: { kind: 'seed', default: 1 } },
      sideEffects: false,
      previews: ['image-grid'],
    },
    {
      id: 'test:augment:flip',
      version: 1,
      name: 'Flip',
      category: 'augment',
      description: 'flips images',
      inputs: { dataset: { type: 'dataset' } },
      outputs: { dataset: { type: 'dataset' } },
      params: { p: { kind: 'number', default: 0.5, min: 0, max: 1, step: 0.05 } },
      sideEffects: false,
      previews: [],
    },
    {
      id: 'test:train:train',
      version: 1,
      name: 'Train',
      category: 'train',
      description: 'trains',
      inputs: { dataset: { type: 'dataset' }, model: { type: 'model' } },
      outputs: { model: { type: 'model' } },
      params: { epochs: { kind: 'integer', default: 3 } },
      sideEffects: false,
      previews: ['curves'],
    },
  ],
};

export function sampleDoc(): DlflowDocument {
  return {
    format: 'dlflow',
    version: 1,
    nodes: [
      { id: 'load-1', type: 'test:data:load', params: { count: 10, seed: 1 }, position: { x: 0, y: 0 } },
      { id: 'flip-1', type: 'test:augment:flip', params: { p: 0.5 }, position: { x: 300, y: 0 }, label: 'Flip it' },
      { id: 'train-1', type: 'test:train:train', params: { epochs: 3 }, position: { x: 600, y: 0 } },
    ],
    edges: [
      { id: 'load-1.dataset->flip-1.dataset', source: 'load-1', sourceHandle: 'dataset', target: 'flip-1', targetHandle: 'dataset' },
      { id: 'flip-1.dataset->train-1.dataset', source: 'flip-1', sourceHandle: 'dataset', target: 'train-1', targetHandle: 'dataset' },
    ],
    viewport: { x: 0, y: 0, zoom: 1 },
  };
}
