export { EventBus } from './bus.ts'
export { watchMesh, pathOf } from './mesh-watch.ts'
export { WebhookSink } from './webhook.ts'
export type { MeshEvent, MeshEventFields, MeshEventType, PathView } from './types.ts'
