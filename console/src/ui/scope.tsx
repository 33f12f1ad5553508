// The scope controls the traces, map and compare views share: the group
// selector (groups are loaded once per page) and the TimeRangeType selector.
import { useEffect, useState } from 'preact/hooks';
import type { Group, TimeRangeType } from '../api/types';
import { allGroups } from '../api/xray';

let groupsLoad: Promise<Group[]> | null = null;

// Every group but Default (which is "all traces"); [] when they cannot be read.
export function useGroups(): Group[] | null {
  const [groups, setGroups] = useState<Group[] | null>(null);
  useEffect(() => {
    groupsLoad ??= allGroups().then(
      (all) => all.filter((g) => g.GroupName !== 'Default'),
      () => {
        groupsLoad = null; // try again next time (keys may arrive)
        return [];
      },
    );
    let live = true;
    void groupsLoad.then((g) => live && setGroups(g));
    return () => {
      live = false;
    };
  }, []);
  return groups;
}

export function GroupSelect({ value, onChange, allLabel = 'All traces' }: { value: string; onChange: (group: string) => void; allLabel?: string }) {
  const groups = useGroups();
  const known = !value || value === 'Default' || (groups ?? []).some((g) => g.GroupName === value);
  return (
    <label class="field">
      Group
      <select aria-label="Group" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{allLabel}</option>
        {(groups ?? []).map((g) => (
          <option value={g.GroupName} title={g.FilterExpression ?? ''}>
            {g.GroupName}
          </option>
        ))}
        {!known ? <option value={value}>{value}</option> : null}
      </select>
    </label>
  );
}

export function TimeRangeTypeSelect({ value, onChange }: { value: TimeRangeType; onChange: (type: TimeRangeType) => void }) {
  return (
    <label class="field">
      Time of
      <select aria-label="Time range type" value={value} onChange={(e) => onChange(e.currentTarget.value === 'Event' ? 'Event' : 'TraceId')}>
        <option value="TraceId">Trace start</option>
        <option value="Event">Event (last change)</option>
      </select>
    </label>
  );
}
