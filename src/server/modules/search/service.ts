import { type OfflineSearchKeys, offlineSearchKeys } from './offline.ts';
import type { SearchDocument, SearchQuery, SearchResult } from './search-index.ts';
import { CatalogSearchIndex } from './search-index.ts';
import { defaultSynonyms } from './synonyms.ts';

export type { OfflineSearchKeys } from './offline.ts';

/** Where the search documents come from (the catalog service: one per implementation). */
export interface SearchDocumentSource {
  listSearchDocuments(): Promise<SearchDocument[]>;
}

/**
 * The search module's public face: holds the in-memory catalog search index (jieba + pinyin + synonyms,
 * see search-index.ts) and rebuilds it from the catalog. A rebuild swaps the whole index at once, so a
 * query never sees a half-built one. ~1.2 s at the province's 715,000 implementations.
 */
export class CatalogSearchService {
  private index: CatalogSearchIndex = new CatalogSearchIndex();
  private readonly source: SearchDocumentSource;

  constructor(source: SearchDocumentSource) {
    this.source = source;
  }

  /** Re-reads every search document and replaces the index. Returns the number of documents indexed. */
  async rebuild(): Promise<number> {
    const docs = await this.source.listSearchDocuments();
    this.index = CatalogSearchIndex.build(docs);
    return this.index.stats.documents;
  }

  /**
   * Relevance-then-popularity search, one hit per item.
   * @throws AppError(validation) for an empty or too long `q`, a bad limit/offset or division (field named).
   */
  search(query: SearchQuery): SearchResult {
    return this.index.search(query);
  }

  /**
   * The keys the citizen app searches an item by offline — pinyin and initials of the name, aliases and
   * colloquial terms with their pinyin (see ./offline.ts) — computed here so the browser needs no pinyin
   * library. Uses the same synonym table as the online search (data/catalog/synonyms.csv).
   */
  offlineKeys(name: string, aliases: readonly string[]): OfflineSearchKeys {
    return offlineSearchKeys(defaultSynonyms(), name, aliases);
  }

  /** Records that an item was used (e.g. a case was opened), raising it among equally relevant hits. */
  recordPopularity(itemCode: string, delta = 1): void {
    this.index.recordPopularity(itemCode, delta);
  }
}
