export { createStore } from "./store.ts";
export type { Store, StoreRef, RefKind, DirEntry } from "./store.ts";
export { dirFileSet, storeFileSet, locate } from "./file-set.ts";
export type { FileSet } from "./file-set.ts";
export { verifyModel, verifyData } from "./verify.ts";
export { formatLinks } from "./link.ts";
export type { Link, LinkName } from "./link.ts";
export { EXIT_BROKEN_CHAIN, PROVENANCE_ERRORS } from "./errors.ts";
