export { Projector, type ProjectorOptions, type ProjectionLag } from './projector.js';
export { rebuildViews, type RebuildOptions, type RebuildResult } from './rebuild.js';
export { createReadModel, type ReadModel } from './read-model.js';
export { applyEvents, LIVE_VIEWS, type ViewTables } from './apply-events.js';
export { readCheckpoint } from './checkpoint.js';
export { createViewsChanged, type ViewsChanged, type ViewsChangedListener } from './views-changed.js';
