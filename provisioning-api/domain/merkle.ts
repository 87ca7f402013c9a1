/**
 * Merkle trees of provisioning batches, for millions of leaves, compatible with OpenZeppelin's
 * StandardMerkleTree (@openzeppelin/merkle-tree) and MerkleProof:
 *
 * - leaf = keccak256(keccak256(abi.encode(address device, bytes32 imsiCommitment)));
 * - a parent hashes its two children in ascending byte order (commutative, as MerkleProof
 *   expects), so a proof is just the siblings from leaf to root;
 * - the tree is a complete binary tree in one array of 2n-1 nodes, the root at 0, the children
 *   of node i at 2i+1 and 2i+2, and the n leaves at the end in reverse order: the layout of
 *   StandardMerkleTree, so roots and proofs agree with it node for node.
 *
 * Leaves are sorted by hash before the tree is built, as StandardMerkleTree.of does by
 * default. The root then depends only on the set of (device, commitment) pairs, not on the
 * order the PoRs arrived in: a batch rebuilt after a crash from rows read in another order
 * gives the root already anchored. `sortLeaves: false` keeps insertion order instead.
 *
 * The library itself is far too slow at this size (minutes and gigabytes for 2 million
 * leaves); here every node lives in one flat Uint8Array (32 bytes each, 128 MB for 2 million
 * leaves), hashes go through one reused hash-wasm keccak instance (the fastest measured here,
 * PITFALLS.md), and the sort is a native sort of 53-bit keys, so no per-leaf object exists.
 * Leaves are added one at a time, so a batch streams in from the database.
 */
import { createKeccak, type IHasher } from 'hash-wasm';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { fail, toHex } from '../../sim-applet/index.js';
import { ADDRESS_LENGTH, bytesOf, type BytesInput } from './imsi-commitment.js';

const NODE = 32;

export interface BuildOptions {
  /** Sort leaves by hash like StandardMerkleTree.of (default true). */
  sortLeaves?: boolean;
}

/** Collects leaves as they stream in; `build()` makes the tree. */
export class MerkleTreeBuilder {
  private leaves: Uint8Array;
  private count = 0;
  private readonly preimage = new Uint8Array(64);

  private constructor(
    private readonly hasher: IHasher,
    capacity: number,
  ) {
    this.leaves = new Uint8Array(Math.max(1, capacity) * NODE);
  }

  /** A builder; `expectedLeaves` sizes its buffer once (it grows if more come). */
  static async create(expectedLeaves = 1024): Promise<MerkleTreeBuilder> {
    if (!Number.isSafeInteger(expectedLeaves) || expectedLeaves < 0) {
      fail('INVALID_ARGUMENT', 'expectedLeaves must be a non-negative integer', { field: 'expectedLeaves' });
    }
    return new MerkleTreeBuilder(await createKeccak(256), expectedLeaves);
  }

  get length(): number {
    return this.count;
  }

  /** Adds the leaf of (device, imsiCommitment); returns its input index (what proofs are asked by). */
  add(device: BytesInput, imsiCommitment: BytesInput): number {
    // abi.encode(address, bytes32): the address right-aligned in the first word.
    this.preimage.set(bytesOf(device, ADDRESS_LENGTH, 'device'), 12);
    this.preimage.set(bytesOf(imsiCommitment, NODE, 'imsiCommitment'), 32);
    const h = this.hasher;
    const inner = h.init().update(this.preimage).digest('binary');
    return this.push(h.init().update(inner).digest('binary'));
  }

  /** Adds a leaf hash computed elsewhere (already double-hashed). */
  addLeafHash(leaf: BytesInput): number {
    return this.push(bytesOf(leaf, NODE, 'leaf'));
  }

  private push(leaf: Uint8Array): number {
    if ((this.count + 1) * NODE > this.leaves.length) {
      const grown = new Uint8Array(this.leaves.length * 2);
      grown.set(this.leaves);
      this.leaves = grown;
    }
    this.leaves.set(leaf, this.count * NODE);
    return this.count++;
  }

  /** Builds the tree. The builder is spent afterwards (its buffer is released). */
  build(options: BuildOptions = {}): DeviceMerkleTree {
    const n = this.count;
    if (n === 0) fail('INVALID_ARGUMENT', 'a Merkle tree needs at least one leaf', { field: 'leaves' });
    const leaves = this.leaves;
    this.leaves = new Uint8Array(NODE);
    this.count = 0;
    const order = options.sortLeaves === false ? identity(n) : sortedOrder(leaves, n);

    const nodes = new Uint8Array((2 * n - 1) * NODE);
    const treeIndexOf = new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      const input = order[k]!;
      const at = 2 * n - 2 - k; // StandardMerkleTree: tree[length - 1 - k] = leaves[k]
      nodes.set(leaves.subarray(input * NODE, input * NODE + NODE), at * NODE);
      treeIndexOf[input] = at;
    }
    hashInternalNodes(this.hasher, nodes, n);
    return new DeviceMerkleTree(nodes, treeIndexOf);
  }
}

function identity(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

function compareNodes(buf: Uint8Array, a: number, b: number): number {
  for (let i = 0; i < NODE; i++) {
    const d = buf[a + i]! - buf[b + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Input indices in ascending order of their leaf hash. Each key packs the hash's leading bits
 * above the index into one exactly representable double (53 bits), so a native typed-array
 * sort does the work; leaves whose leading bits tie are then ordered by full comparison.
 */
function sortedOrder(leaves: Uint8Array, n: number): Uint32Array {
  const indexBits = Math.max(1, Math.ceil(Math.log2(n)));
  const prefixBits = 53 - indexBits;
  const indexSpan = 2 ** indexBits;
  const view = new DataView(leaves.buffer, leaves.byteOffset, leaves.byteLength);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const hi = view.getUint32(i * NODE);
    const prefix =
      prefixBits > 32
        ? hi * 2 ** (prefixBits - 32) + (view.getUint32(i * NODE + 4) >>> (64 - prefixBits))
        : hi >>> (32 - prefixBits);
    keys[i] = prefix * indexSpan + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = keys[k]! % indexSpan;
  // Runs of equal prefixes (rare: n^2 / 2^(prefixBits+1) expected pairs) get a full comparison.
  let start = 0;
  for (let k = 1; k <= n; k++) {
    if (k < n && Math.floor(keys[k]! / indexSpan) === Math.floor(keys[start]! / indexSpan)) continue;
    if (k - start > 1) {
      const run = Array.from(order.subarray(start, k)).sort((a, b) => compareNodes(leaves, a * NODE, b * NODE) || a - b);
      order.set(run, start);
    }
    start = k;
  }
  return order;
}

/** Fills nodes n-2 .. 0, each the sorted-pair hash of its two children. */
function hashInternalNodes(h: IHasher, nodes: Uint8Array, n: number): void {
  const swapped = new Uint8Array(2 * NODE);
  for (let i = n - 2; i >= 0; i--) {
    const left = (2 * i + 1) * NODE;
    const right = left + NODE;
    h.init();
    // The children are adjacent: in order, they are hashed in place without a copy.
    if (compareNodes(nodes, left, right) <= 0) {
      h.update(nodes.subarray(left, right + NODE));
    } else {
      swapped.set(nodes.subarray(right, right + NODE), 0);
      swapped.set(nodes.subarray(left, right), NODE);
      h.update(swapped);
    }
    nodes.set(h.digest('binary'), i * NODE);
  }
}

/** A built tree: its root, and the proof of any leaf in O(log n) without rebuilding anything. */
export class DeviceMerkleTree {
  readonly leafCount: number;

  /** @param nodes 2n-1 nodes in StandardMerkleTree's layout; @param treeIndexOf input index → node index. */
  constructor(
    readonly nodes: Uint8Array,
    private readonly treeIndexOf: Uint32Array,
  ) {
    this.leafCount = treeIndexOf.length;
    if (nodes.length !== (2 * this.leafCount - 1) * NODE) {
      fail('LENGTH_MISMATCH', 'a tree of n leaves has 2n-1 nodes', { field: 'nodes' });
    }
  }

  get root(): Uint8Array {
    return this.nodes.slice(0, NODE);
  }

  get rootHex(): string {
    return hex(this.nodes, 0);
  }

  /** Where the leaf added as `inputIndex` sits in the node array (StandardMerkleTree's treeIndex). */
  treeIndex(inputIndex: number): number {
    this.checkIndex(inputIndex);
    return this.treeIndexOf[inputIndex]!;
  }

  leaf(inputIndex: number): Uint8Array {
    const at = this.treeIndex(inputIndex) * NODE;
    return this.nodes.slice(at, at + NODE);
  }

  /** Sibling hashes from the leaf up to (not including) the root. */
  proof(inputIndex: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = this.treeIndex(inputIndex); i > 0; i = (i - 1) >> 1) {
      const sibling = i % 2 === 1 ? i + 1 : i - 1;
      out.push(this.nodes.slice(sibling * NODE, sibling * NODE + NODE));
    }
    return out;
  }

  /** The proof as 0x-hex strings, as contracts and StandardMerkleTree.getProof take them. */
  proofHex(inputIndex: number): string[] {
    const out: string[] = [];
    for (let i = this.treeIndex(inputIndex); i > 0; i = (i - 1) >> 1) {
      out.push(hex(this.nodes, (i % 2 === 1 ? i + 1 : i - 1) * NODE));
    }
    return out;
  }

  private checkIndex(inputIndex: number): void {
    if (!Number.isInteger(inputIndex) || inputIndex < 0 || inputIndex >= this.leafCount) {
      fail('INVALID_ARGUMENT', `leaf index must be from 0 to ${this.leafCount - 1}`, { field: 'index', value: inputIndex });
    }
  }
}

function hex(buf: Uint8Array, at: number): string {
  return `0x${toHex(buf.subarray(at, at + NODE))}`;
}

/** The root a proof leads to from a leaf (MerkleProof.processProof). */
export function processProof(leaf: BytesInput, proof: readonly BytesInput[]): Uint8Array {
  let node = bytesOf(leaf, NODE, 'leaf');
  const pair = new Uint8Array(2 * NODE);
  for (const [i, p] of proof.entries()) {
    const sibling = bytesOf(p, NODE, `proof[${i}]`);
    const ordered = compareBytes(node, sibling) <= 0;
    pair.set(ordered ? node : sibling, 0);
    pair.set(ordered ? sibling : node, NODE);
    node = keccak_256(pair);
  }
  return node;
}

/** Whether `proof` leads from `leaf` to `root` (MerkleProof.verify). */
export function verifyProof(root: BytesInput, leaf: BytesInput, proof: readonly BytesInput[]): boolean {
  return compareBytes(processProof(leaf, proof), bytesOf(root, NODE, 'root')) === 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
