/** Small builders for documents in tests. */
import type { DlflowDocument, DocEdge, DocNode } from '../../main/protocol/index.ts';
import { DOCUMENT_VERSION } from '../../main/protocol/index.ts';

export function node(id: string, type: string, params: Record<string, unknown> = {}, extra: Partial<DocNode> = {}): DocNode {
  return { id, type, params, position: { x: 0, y: 0 }, ...extra };
}

/** `edge('a.out', 'b.in')`, id defaults to "a-b". */
export function edge(from: string, to: string, id?: string): DocEdge {
  const [source, sourceHandle] = from.split('.');
  const [target, targetHandle] = to.split('.');
  return { id: id ?? `${source}-${target}`, source, sourceHandle, target, targetHandle };
}

export function makeDoc(nodes: DocNode[], edges: DocEdge[] = []): DlflowDocument {
  return { format: 'dlflow', version: DOCUMENT_VERSION, nodes, edges };
}

/** A valid pipeline using every stub node. */
export function validPipeline(): DlflowDocument {
  return makeDoc(
    [
      node('c1', 'stub:source:constant', { value: 2 }, { position: { x: 10, y: 20 } }),
      node('c2', 'stub:source:constant', {}, { label: 'One' }),
      node('sum', 'stub:math:add'),
      node('train', 'stub:train:train-classifier', { epochs: 5, optimizer: 'sgd' }, { typeVersion: 3 }),
      node('fmt', 'stub:text:format', { template: 'total = {}' }),
      node('save', 'stub:io:save-text', { path: 'out/result.txt' }),
    ],
    [
      edge('c1.out', 'sum.a'),
      edge('c2.out', 'sum.b'),
      edge('sum.sum', 'train.data'),
      edge('sum.sum', 'fmt.value'),
      edge('fmt.text', 'save.text'),
    ],
  );
}
