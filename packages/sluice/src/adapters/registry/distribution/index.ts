export { DistributionRegistry, OCI_INDEX, OCI_MANIFEST, referrersTag } from './distribution.js';
export { credentialsFromEnv, PASSWORD_ENV, USER_ENV, type Credentials, type HttpOptions } from './http.js';
export { formatRemoteReference, isLoopbackRegistry, isValidTag, parseRemoteReference, type RemoteReference } from './reference.js';
