export { BackupError, createBackup, restoreBackup, type Manifest } from './backup.js';
export { DeployError, deploy, inspectRelease, type DeployOptions } from './deploy.js';
