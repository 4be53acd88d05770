/**
 * Read masks (google.protobuf.FieldMask) as Sui's RPC applies them: dotted proto field names,
 * a path that names a message selects all of it, and a path through a repeated field applies
 * to each element. Pruning walks the SDK's own MessageType field descriptions, so what a
 * response carries follows the .proto definitions rather than a hand-kept list.
 */
import type { IMessageType, FieldInfo } from '@protobuf-ts/runtime';

/** Selected field names; `null` selects the whole field. */
export type MaskTree = Map<string, MaskTree | null>;

export function parseMask(paths: readonly string[] | undefined, fallback: readonly string[]): MaskTree {
  const tree: MaskTree = new Map();
  for (const path of paths && paths.length > 0 ? paths : fallback) {
    let node = tree;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const existing = node.get(part);
      if (existing === null) return; // already whole
      if (last) {
        node.set(part, null);
        return;
      }
      const next = existing ?? new Map();
      node.set(part, next);
      node = next;
    });
  }
  return tree;
}

/** The subtree for `name`: a tree, `null` (all of it) or `undefined` (not selected). */
export function sub(tree: MaskTree | null, name: string): MaskTree | null | undefined {
  if (tree === null) return null;
  return tree.has(name) ? tree.get(name) : undefined;
}

export function selects(tree: MaskTree | null, name: string): boolean {
  return sub(tree, name) !== undefined;
}

/** Whether `path` (dotted) is selected, wholly or in part. */
export function selectsPath(tree: MaskTree | null, path: string): boolean {
  let node: MaskTree | null | undefined = tree;
  for (const part of path.split('.')) {
    if (node === null) return true;
    node = sub(node, part);
    if (node === undefined) return false;
  }
  return true;
}

type Message = Record<string, unknown>;

/** A copy of `message` with only the masked fields set (the others at their proto defaults). */
export function prune<T extends object>(type: IMessageType<T>, message: T, tree: MaskTree | null): T {
  if (tree === null) return message;
  const source = message as unknown as Message;
  const out = type.create() as unknown as Message;
  for (const field of type.fields) {
    const selected = sub(tree, field.name);
    if (selected === undefined) continue;
    if (field.oneof) {
      const group = source[field.oneof] as { oneofKind?: string } & Message;
      if (group?.oneofKind !== field.localName) continue;
      out[field.oneof] = { oneofKind: field.localName, [field.localName]: pruneValue(field, group[field.localName], selected) };
      continue;
    }
    out[field.localName] = pruneValue(field, source[field.localName], selected);
  }
  return out as unknown as T;
}

function pruneValue(field: FieldInfo, value: unknown, selected: MaskTree | null): unknown {
  if (selected === null || field.kind !== 'message' || value === undefined) return value;
  const type = field.T() as IMessageType<object>;
  if (field.repeat) return (value as object[]).map((item) => prune(type, item, selected));
  return prune(type, value as object, selected);
}
