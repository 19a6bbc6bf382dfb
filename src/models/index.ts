// A model directory read and written through its card: signing, trust, manifests (docs/models.md).
export { loadModelCard, readModelDir, writeModelDir, storeByHash, readFromStore, pruneStaged, makePrivateDir, cardFileNames, bundleCard, isSafeModelFile, type ModelBundle, type BundleCard } from './model-dir.js';
export { manifestOf, checkManifest, checkFiles, MAX_UPDATE_BYTES, type ModelManifest, type ManifestFile, type ManifestExpectations } from './manifest.js';
export { generateSigningKeys, parsePrivateKey, parsePublicKey, signModel, verifyModel, keyIdOf, sha256Hex, canonicalJson, signingMessage, type KeyPairPem, type ModelSignature, type SignedModelFields } from './signing.js';
export { loadModelTrust, profileModelTrust, mergeModelTrust, type ModelTrust } from './trust.js';
