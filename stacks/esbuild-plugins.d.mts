import type { Plugin } from "esbuild";

export declare const zodEnglishOnly: Plugin;
export declare const zodJitless: Plugin;
export declare const awsSdkErrorsImported: Plugin;
/** Per `client-*` package, the names Firebreak's sources import it by, or "all". */
export declare function sdkClientImports(root?: string): Map<string, Set<string> | "all">;
declare const plugins: Plugin[];
export default plugins;
