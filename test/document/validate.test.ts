import { describe, expect, it } from 'vitest';
import { findCycles, validateDocument } from '../../main/engine/document/index.ts';
import type { Diagnostic } from '../../main/protocol/index.ts';
import { edge, makeDoc, node, validPipeline } from './build.ts';
import { stubRegistry } from './stub-nodes.ts';

const registry = stubRegistry();
const messages = (ds: Diagnostic[]): string[] => ds.map((d) => d.message);

describe('validateDocument', () => {
  it('finds nothing wrong with a valid pipeline', () => {
    expect(validateDocument(validPipeline(), registry)).toEqual([]);
  });

  it('reports an unknown node type and names the node', () => {
    const doc = makeDoc([node('old', 'stub:legacy:gone', { x: 1 })]);
    expect(validateDocument(doc, registry)).toEqual([
      {
        severity: 'error',
        code: 'unknown-node-type',
        nodeId: 'old',
        message: 'node "old" (stub:legacy:gone): unknown node type "stub:legacy:gone"; kept as a placeholder, it cannot run',
      },
    ]);
  });

  it('does not check ports or params of a placeholder node', () => {
    const doc = makeDoc(
      [node('c', 'stub:source:constant'), node('old', 'stub:legacy:gone', { anything: [1, 2] }), node('s', 'stub:math:add')],
      [edge('c.out', 'old.whatever'), edge('old.result', 's.a', 'e2'), edge('old.result', 's.nothing', 'e3')],
    );
    // The unknown type, and the add node's own port "nothing"; the placeholder's edge does fill s.a.
    expect(validateDocument(doc, registry).map((d) => d.code)).toEqual(['unknown-node-type', 'unknown-port']);
  });

  it('reports duplicate node ids and duplicate edge ids', () => {
    const doc = makeDoc(
      [node('c', 'stub:source:constant'), node('c', 'stub:source:constant'), node('s', 'stub:math:add')],
      [edge('c.out', 's.a', 'e'), edge('c.out', 's.b', 'e')],
    );
    const ds = validateDocument(doc, registry);
    expect(ds).toContainEqual({
      severity: 'error',
      code: 'duplicate-node-id',
      nodeId: 'c',
      message: 'node id "c" is used by 2 nodes; ids must be unique',
    });
    expect(ds).toContainEqual({
      severity: 'error',
      code: 'duplicate-edge-id',
      edgeId: 'e',
      message: 'edge id "e" is used by 2 edges; ids must be unique',
    });
  });

  it('reports a required input with no edge, but not an optional one', () => {
    const doc = makeDoc([node('s', 'stub:math:add')]);
    expect(validateDocument(doc, registry)).toEqual([
      {
        severity: 'error',
        code: 'missing-input',
        nodeId: 's',
        port: 'a',
        message: 'node "s" (stub:math:add): required input "a" (stub-number) is not connected',
      },
    ]);
  });

  it('reports a port type mismatch naming both ends', () => {
    const doc = makeDoc(
      [node('c', 'stub:source:constant'), node('f', 'stub:text:format'), node('f2', 'stub:text:format')],
      [edge('c.out', 'f.value'), edge('f.text', 'f2.value', 'wrong')],
    );
    expect(validateDocument(doc, registry)).toEqual([
      {
        severity: 'error',
        code: 'port-type-mismatch',
        nodeId: 'f2',
        edgeId: 'wrong',
        port: 'value',
        message: 'node "f2" (stub:text:format): input "value" takes stub-number, but edge "wrong" brings stub-text from "f".text',
      },
    ]);
  });

  it('reports unknown output and input handles, listing the real ones', () => {
    const doc = makeDoc([node('c', 'stub:source:constant'), node('s', 'stub:math:add')], [edge('c.output', 's.x', 'e1')]);
    const ds = validateDocument(doc, registry).filter((d) => d.code === 'unknown-port');
    expect(messages(ds)).toEqual([
      'node "c" (stub:source:constant): has no output "output" (outputs: out), used by edge "e1"',
      'node "s" (stub:math:add): has no input "x" (inputs: a, b), used by edge "e1"',
    ]);
    expect(ds.map((d) => [d.nodeId, d.port])).toEqual([
      ['c', 'output'],
      ['s', 'x'],
    ]);
  });

  it('reports two edges into one input', () => {
    const doc = makeDoc(
      [node('c1', 'stub:source:constant'), node('c2', 'stub:source:constant'), node('s', 'stub:math:add')],
      [edge('c1.out', 's.a', 'e1'), edge('c2.out', 's.a', 'e2')],
    );
    expect(validateDocument(doc, registry)).toEqual([
      {
        severity: 'error',
        code: 'input-already-connected',
        nodeId: 's',
        port: 'a',
        message: 'node "s" (stub:math:add): input "a" has 2 edges ("e1", "e2"); an input takes one',
      },
    ]);
  });

  it('reports a dangling edge naming the missing node', () => {
    const doc = makeDoc(
      [node('c', 'stub:source:constant'), node('s', 'stub:math:add')],
      [edge('c.out', 's.a'), edge('ghost.out', 's.b', 'e9'), edge('c.out', 'nowhere.in', 'e10'), edge('x.o', 'y.i', 'e11')],
    );
    const ds = validateDocument(doc, registry);
    expect(ds).toEqual([
      {
        severity: 'error',
        code: 'dangling-edge',
        edgeId: 'e9',
        nodeId: 's',
        message: 'edge "e9" (ghost.out → s.b): source node "ghost" does not exist',
      },
      {
        severity: 'error',
        code: 'dangling-edge',
        edgeId: 'e10',
        nodeId: 'c',
        message: 'edge "e10" (c.out → nowhere.in): target node "nowhere" does not exist',
      },
      {
        severity: 'error',
        code: 'dangling-edge',
        edgeId: 'e11',
        nodeId: undefined,
        message: 'edge "e11" (x.o → y.i): source node "x" and target node "y" do not exist',
      },
    ]);
  });

  it('reports a cycle naming only the nodes on it, in edge order', () => {
    // c → a → b → d → a is a cycle (a, b, d); "after" is merely downstream of it.
    const doc = makeDoc(
      [
        node('after', 'stub:math:add'),
        node('c', 'stub:source:constant'),
        node('b', 'stub:math:add'),
        node('a', 'stub:math:add'),
        node('d', 'stub:math:add'),
      ],
      [edge('c.out', 'a.a'), edge('d.sum', 'a.b'), edge('a.sum', 'b.a'), edge('b.sum', 'd.a'), edge('d.sum', 'after.a', 'e5')],
    );
    expect(validateDocument(doc, registry)).toEqual([
      {
        severity: 'error',
        code: 'cycle',
        nodeId: 'b',
        message: 'cycle "b" → "d" → "a" → "b"; a pipeline cannot feed back into itself',
      },
    ]);
  });

  it('reports each separate cycle, and a node wired to itself', () => {
    const doc = makeDoc(
      [node('self', 'stub:math:add'), node('p', 'stub:math:add'), node('q', 'stub:math:add')],
      [edge('self.sum', 'self.a'), edge('p.sum', 'q.a'), edge('q.sum', 'p.a')],
    );
    expect(messages(validateDocument(doc, registry))).toEqual([
      'node "self" is connected to itself; a pipeline cannot feed back into itself',
      'cycle "p" → "q" → "p"; a pipeline cannot feed back into itself',
    ]);
    expect(findCycles(doc.nodes, doc.edges)).toEqual([['self'], ['p', 'q']]);
  });

  describe('params', () => {
    const train = (params: Record<string, unknown>) =>
      makeDoc([node('c', 'stub:source:constant'), node('train', 'stub:train:train-classifier', params)], [edge('c.out', 'train.data')]);
    const check = (params: Record<string, unknown>) => validateDocument(train(params), registry);

    it('out of range', () => {
      expect(check({ epochs: 0 })).toEqual([
        {
          severity: 'error',
          code: 'param-out-of-range',
          nodeId: 'train',
          param: 'epochs',
          message: 'node "train" (stub:train:train-classifier): param "epochs" is 0, outside 1..1000',
        },
      ]);
      expect(messages(check({ optimizer: 'rmsprop' }))).toEqual([
        'node "train" (stub:train:train-classifier): param "optimizer" is "rmsprop", expected one of adam, sgd, momentum',
      ]);
      expect(messages(check({ seed: -1 }))).toEqual(['node "train" (stub:train:train-classifier): param "seed" is -1, outside 0..2147483647']);
    });

    it('wrong type', () => {
      expect(check({ epochs: '10', shuffle: 'yes', learningRate: null, notes: 3 })).toEqual(
        [
          ['epochs', 'param "epochs" must be a finite number, got string "10"'],
          ['learningRate', 'param "learningRate" must be a finite number, got object null'],
          ['shuffle', 'param "shuffle" must be true or false, got string "yes"'],
          ['notes', 'param "notes" must be a string, got number 3'],
        ].map(([param, message]) => ({
          severity: 'error',
          code: 'param-wrong-type',
          nodeId: 'train',
          param,
          message: `node "train" (stub:train:train-classifier): ${message}`,
        })),
      );
      expect(messages(check({ epochs: 2.5 }))).toEqual([
        'node "train" (stub:train:train-classifier): param "epochs" must be an integer, got number 2.5',
      ]);
    });

    it('unknown param, listing the known ones', () => {
      expect(check({ epoch: 3 })).toEqual([
        {
          severity: 'error',
          code: 'param-unknown',
          nodeId: 'train',
          param: 'epoch',
          message:
            'node "train" (stub:train:train-classifier): unknown param "epoch" (params: epochs, learningRate, optimizer, shuffle, warmup, seed, notes)',
        },
      ]);
    });

    it('required string left empty', () => {
      const doc = makeDoc(
        [node('c', 'stub:source:constant'), node('f', 'stub:text:format', { template: '  ' })],
        [edge('c.out', 'f.value')],
      );
      expect(validateDocument(doc, registry)).toEqual([
        { severity: 'error', code: 'param-invalid', nodeId: 'f', param: 'template', message: 'node "f" (stub:text:format): param "template" must not be empty' },
      ]);
    });

    it("the node's own checkParams, once each param is valid", () => {
      expect(check({ epochs: 3, warmup: 3 })).toEqual([
        {
          severity: 'error',
          code: 'param-invalid',
          nodeId: 'train',
          param: 'warmup',
          message: 'node "train" (stub:train:train-classifier): param "warmup": must be below epochs (3)',
        },
      ]);
      // With a broken param, checkParams would see garbage: only the param problem is reported.
      expect(check({ epochs: 'x', warmup: 50 }).map((d) => d.code)).toEqual(['param-wrong-type']);
    });
  });

  it('reports every problem at once, each naming its node', () => {
    const doc = makeDoc(
      [
        node('c', 'stub:source:constant', { value: 5000 }),
        node('c', 'stub:source:constant'),
        node('ghost', 'stub:nope:nothing'),
        node('s', 'stub:math:add', { extra: true }),
        node('f', 'stub:text:format'),
        node('t', 'stub:train:train-classifier', { epochs: 'many' }),
        node('loop', 'stub:math:add'),
      ],
      [
        edge('c.out', 's.b', 'e1'),
        edge('f.text', 't.data', 'e2'),
        edge('c.out', 'f.nope', 'e3'),
        edge('missing.out', 'f.value', 'e4'),
        edge('loop.sum', 'loop.a', 'e5'),
        edge('c.out', 'loop.b', 'e5'),
      ],
    );
    const ds = validateDocument(doc, registry);
    expect(new Set(ds.map((d) => d.code))).toEqual(
      new Set([
        'duplicate-node-id',
        'duplicate-edge-id',
        'unknown-node-type',
        'param-out-of-range',
        'param-unknown',
        'param-wrong-type',
        'port-type-mismatch',
        'unknown-port',
        'dangling-edge',
        'missing-input',
        'cycle',
      ]),
    );
    expect(ds.every((d) => d.nodeId !== undefined || d.edgeId !== undefined)).toBe(true);
    expect(ds.find((d) => d.code === 'missing-input')?.message).toBe('node "s" (stub:math:add): required input "a" (stub-number) is not connected');
  });
});
