export { Projector, type ProjectorOptions } from './projector-loop.js';
export {
  createProjectors,
  projectionLags,
  type Projectors,
  type ProjectorsOptions,
  type ProjectionLags,
} from './process-projectors.js';
export { PROJECTIONS, remainingSeats, reservations } from './all-projections.js';
export { applyNext } from './apply-range.js';
export type { AppliedBatch, Projection } from './projection-contract.js';
export { rebuildViews, type RebuildOptions, type RebuildResult } from './rebuild.js';
export { createReadModel, type ReadModel } from './read-model.js';
export { LIVE_VIEWS, type ViewTables } from './view-tables.js';
export { projectionLag, readCheckpoint, type ProjectionLag } from './checkpoint.js';
export { createViewsChanged, type ViewsChanged, type ViewsChangedListener } from './views-changed.js';
export {
  announceViewsChanged,
  listenForChangedViews,
  notificationPayloads,
  VIEWS_CHANGED_CHANNEL,
  type ChangedViewsListener,
} from './views-changed-channel.js';
