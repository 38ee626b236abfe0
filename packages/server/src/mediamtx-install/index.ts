export {
  DEFAULT_TARGET,
  DEFAULT_URL_BASE,
  InstallError,
  installMediaMtx,
  releaseArch,
  releaseUrl,
  type InstallOptions,
} from './install.js';
export { ArchiveError, extractFile } from './archive.js';
