/** A group's labelled frame: a React Flow node behind its members, dragged by its label bar. */
import type { Node, NodeProps } from '@xyflow/react';
import { memo, useState } from 'react';
import type { DocGroup } from '../../../main/protocol/index.ts';
import { cycleGroupColor, renameGroup, ungroupSelection } from '../actions/editActions.ts';

export const GROUP_NODE_TYPE = 'dlflow-group';
export type GroupFlowData = { group: DocGroup; width: number; height: number };
export type GroupFlowNode = Node<GroupFlowData, typeof GROUP_NODE_TYPE>;

function GroupFrameImpl({ data, selected }: NodeProps<GroupFlowNode>) {
  const { group, width, height } = data;
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(group.label);
  const commit = () => {
    setEditing(false);
    const label = draft.trim();
    if (label !== group.label) renameGroup(group.id, label);
  };
  const style = { width, height, ...(group.color ? { ['--group-color' as string]: group.color } : {}) };
  return (
    <div className={`dl-group${selected ? ' selected' : ''}`} style={style} data-testid={`group-${group.id}`}>
      <div className="dl-group-header" onDoubleClick={() => (setDraft(group.label), setEditing(true))} title="Drag to move the group; double-click to rename">
        {editing ? (
          <input
            className="nodrag"
            data-testid={`group-label-input-${group.id}`}
            autoFocus
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={commit}
            onKeyDown={(e) => {
              if (e.key === 'Enter') commit();
              else if (e.key === 'Escape') setEditing(false);
              e.stopPropagation();
            }}
          />
        ) : (
          <span className="dl-group-label" data-testid={`group-label-${group.id}`}>
            {group.label || 'Group'}
          </span>
        )}
        <button type="button" className="nodrag" data-testid={`group-color-${group.id}`} title="Next frame colour" onClick={() => cycleGroupColor(group.id)}>
          ●
        </button>
        <button type="button" className="nodrag" data-testid={`group-ungroup-${group.id}`} title="Ungroup (the nodes stay)" onClick={() => ungroupSelection([group.id])}>
          ✕
        </button>
      </div>
    </div>
  );
}

export const GroupFrame = memo(GroupFrameImpl);
