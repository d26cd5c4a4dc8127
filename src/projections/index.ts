export { Projector, type ProjectorOptions } from './projector.js';
export { createProjectors, type Projectors, type ProjectorsOptions, type ProjectionLags } from './projectors.js';
export { PROJECTIONS, remainingSeats, reservations } from './projections.js';
export type { AppliedBatch, Projection } from './projection.js';
export { rebuildViews, type RebuildOptions, type RebuildResult } from './rebuild.js';
export { createReadModel, type ReadModel } from './read-model.js';
export { LIVE_VIEWS, type ViewTables } from './apply-events.js';
export { projectionLag, readCheckpoint, type ProjectionLag } from './checkpoint.js';
export { createViewsChanged, type ViewsChanged, type ViewsChangedListener } from './views-changed.js';
