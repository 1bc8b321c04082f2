export { CorruptBlobError, OciLayoutRegistry, isValidRefName, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, REF_NAME_ANNOTATION } from './layout.js';
