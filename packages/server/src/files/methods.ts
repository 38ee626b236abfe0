/** The file and storage methods. */
import type { MethodRegistry } from '../rpc/index.js';
import {
  cleanupOldFiles,
  deleteRecording,
  deleteSnapshot,
  getRecordingInfo,
  getSnapshotInfo,
  getStorageInfo,
  listRecordings,
  listSnapshots,
  setRetentionPolicy,
} from './contracts.js';
import type { FilesService } from './service.js';

export function registerFilesMethods(methods: MethodRegistry, files: FilesService): void {
  for (const [contract, kind] of [
    [listRecordings, 'recordings'],
    [listSnapshots, 'snapshots'],
  ] as const) {
    methods.register(contract, (params) => ({
      ...files.list(kind, params),
      limit: params.limit,
      offset: params.offset,
    }));
  }

  methods.register(getRecordingInfo, ({ filename }) => files.info('recordings', filename));

  methods.register(getSnapshotInfo, async ({ filename }) => {
    const {
      duration: _duration,
      in_progress: _inProgress,
      codec: _codec,
      ...info
    } = await files.info('snapshots', filename);
    return info;
  });

  for (const [contract, kind] of [
    [deleteRecording, 'recordings'],
    [deleteSnapshot, 'snapshots'],
  ] as const) {
    methods.register(contract, ({ filename }, ctx) =>
      files.delete(kind, filename, {
        subject: ctx.session.principal?.subject ?? 'unknown',
        role: ctx.session.principal?.role ?? 'unknown',
      }),
    );
  }

  methods.register(getStorageInfo, () => files.storageInfo());
  methods.register(setRetentionPolicy, (params) => files.retention.set(params));
  methods.register(cleanupOldFiles, () => files.retention.cleanup('requested'));
}
