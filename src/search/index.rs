//! The search index on disk: a tantivy index plus the vocabulary and metadata beside it, in one
//! folder of the data directory keyed by a hash of the content it was built from.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, PhrasePrefixQuery,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
    STORED, STRING,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, Index, IndexReader, Order, ReloadPolicy, Searcher, SegmentReader, TantivyDocument,
    Term,
};

use super::normalize::{compact, doc_numbers, index_tokens, is_han, normalize, query_tokens};
use super::plan::{self, Alternative, Plan};
use super::snippet::snippet;
use super::synonyms::Synonyms;
use super::vocab::{Vocabulary, VocabularyData};
use super::{words, Facets, Hit, SearchError, SearchRequest, SearchResults, Sort};
use crate::content::{Content, Date, ItemKind};
use crate::source::{self, SourceFiles};

/// Bumped whenever the schema, the tokenizers or the saved files change: old indexes are rebuilt.
pub const SCHEMA_VERSION: u32 = 4;
const META_FILE: &str = "kiosk-index.json";
const VOCABULARY_FILE: &str = "vocabulary.json";
const FIRST_KEYSTROKES_FILE: &str = "first-keystrokes.json";
/// Below this many results that cover enough of a query's words, results that cover fewer of
/// them are shown too.
const FEW: usize = 3;
/// Characters of text around a match shown in a snippet.
const SNIPPET_WIDTH: usize = 72;

const BIGRAM: &str = "kiosk_bigram";
const DOCNO: &str = "kiosk_docno";
const WORDS: &str = "kiosk_words";
const KEYWORDS: &str = "kiosk_keywords";

/// What the index knows about the content besides the documents.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct IndexMeta {
    schema_version: u32,
    key: String,
    site_id: String,
    site_name: String,
    columns: Vec<ColumnMeta>,
    items: usize,
    synonyms: Synonyms,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ColumnMeta {
    id: String,
    name: String,
    parent: Option<String>,
}

/// A tokenizer from a function: tokens in order, one position each.
#[derive(Clone)]
struct FnTokenizer(fn(&str) -> Vec<String>);

struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for FnTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let tokens = (self.0)(text)
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

fn bigram_tokens(text: &str) -> Vec<String> {
    index_tokens(&normalize(text))
}

fn docno_tokens(text: &str) -> Vec<String> {
    // Several numbers may be indexed, one a line: each is compacted on its own.
    normalize(text)
        .lines()
        .flat_map(|line| index_tokens(&compact(line)))
        .collect()
}

/// Each keyword whole (one a line); the first one, the item's main subject, also as `^keyword`.
fn keyword_tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for (i, line) in normalize(text).lines().enumerate() {
        let keyword = line.split_whitespace().collect::<String>();
        if keyword.is_empty() {
            continue;
        }
        if i == 0 {
            tokens.push(format!("^{keyword}"));
        }
        tokens.push(keyword);
    }
    tokens
}

fn word_tokens(text: &str) -> Vec<String> {
    let text = normalize(text);
    words::cut_for_search(&text)
        .into_iter()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    words: Field,
    keywords: Field,
    keyword: Field,
    /// The words of the body and the guide fields (jieba, with the shorter words inside longer
    /// ones): a dictionary word matches only where the text's own words hold it.
    text_words: Field,
    guide: Field,
    meta: Field,
    body: Field,
    docno: Field,
    kind: Field,
    column: Field,
    top: Field,
    year: Field,
    date: Field,
    snippet: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |tokenizer: &str, positions: bool| {
        let option = if positions {
            IndexRecordOption::WithFreqsAndPositions
        } else {
            IndexRecordOption::WithFreqs
        };
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(option),
        )
    };
    let number = NumericOptions::default()
        .set_indexed()
        .set_fast()
        .set_stored();
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        title: builder.add_text_field("title", text(BIGRAM, true).set_stored()),
        words: builder.add_text_field("words", text(WORDS, false)),
        keywords: builder.add_text_field("keywords", text(BIGRAM, true)),
        keyword: builder.add_text_field("keyword", text(KEYWORDS, false)),
        text_words: builder.add_text_field("text_words", text(WORDS, false)),
        guide: builder.add_text_field("guide", text(BIGRAM, true)),
        meta: builder.add_text_field("meta", text(BIGRAM, true)),
        body: builder.add_text_field("body", text(BIGRAM, true)),
        docno: builder.add_text_field("docno", text(DOCNO, true)),
        kind: builder.add_u64_field("kind", number.clone()),
        column: builder.add_u64_field("column", number.clone()),
        top: builder.add_u64_field("top", number.clone()),
        year: builder.add_u64_field("year", number.clone()),
        date: builder.add_i64_field("date", NumericOptions::default().set_fast().set_stored()),
        snippet: builder.add_text_field("snippet", STORED),
    };
    (builder.build(), fields)
}

fn register_tokenizers(index: &Index) {
    let manager = index.tokenizers();
    manager.register(BIGRAM, FnTokenizer(bigram_tokens));
    manager.register(DOCNO, FnTokenizer(docno_tokens));
    manager.register(WORDS, FnTokenizer(word_tokens));
    manager.register(KEYWORDS, FnTokenizer(keyword_tokens));
}

fn kind_ordinal(kind: ItemKind) -> u64 {
    ItemKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as u64
}

/// The key an index is stored under: a hash of every source file, the schema version and the
/// built-in lists that shape the index.
pub fn content_key(files: &SourceFiles) -> String {
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part(&SCHEMA_VERSION.to_le_bytes());
    part(include_str!("polyphones.txt").as_bytes());
    part(include_str!("synonyms-builtin.txt").as_bytes());
    for file in [&files.site, &files.columns, &files.synonyms] {
        part(file.as_deref().unwrap_or(b"\xff-missing"));
    }
    for (name, bytes) in &files.items {
        part(name.as_bytes());
        part(bytes);
    }
    let digest = hash.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// An open search index.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    meta: IndexMeta,
    vocabulary: Vocabulary,
    dir: PathBuf,
    /// The results of every first keystroke (one Chinese character that starts a word of the
    /// vocabulary, or one letter), computed when the index is built.
    first_keystrokes: HashMap<String, SearchResults>,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> SearchError + '_ {
    move |source| SearchError::Io {
        path: path.to_owned(),
        source,
    }
}

impl SearchIndex {
    /// Opens the index for a content source, building it first if this content has none yet.
    /// Indexes live in `index_root/<content key>/`; a build goes to a temporary folder that is
    /// renamed into place when complete, so a half-built index is never opened.
    pub fn open_or_build(source_dir: &Path, index_root: &Path) -> Result<SearchIndex, SearchError> {
        let files = source::read_files(source_dir)?;
        let key = content_key(&files);
        let dir = index_root.join(&key);
        if dir.join(META_FILE).is_file() {
            match SearchIndex::open(&dir) {
                Ok(index) => return Ok(index),
                Err(err) => {
                    tracing::warn!(index = %dir.display(), cause = %err, "rebuilding an unreadable index");
                    fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
                }
            }
        }
        let loaded = source::assemble(files);
        fs::create_dir_all(index_root).map_err(io_error(index_root))?;
        let building = index_root.join(format!(".{key}.building-{}", std::process::id()));
        if building.exists() {
            fs::remove_dir_all(&building).map_err(io_error(&building))?;
        }
        SearchIndex::build(&loaded.content, &building, &key)?;
        if let Err(err) = fs::rename(&building, &dir) {
            // Another process finished the same index first; use theirs.
            let _ = fs::remove_dir_all(&building);
            if !dir.join(META_FILE).is_file() {
                return Err(io_error(&dir)(err));
            }
        }
        SearchIndex::open(&dir)
    }

    /// Builds an index of `content` in `dir` (which must not exist or be empty).
    pub fn build(content: &Content, dir: &Path, key: &str) -> Result<(), SearchError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        register_tokenizers(&index);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let mut writer =
            index.writer_with_num_threads::<TantivyDocument>(threads, threads * 64_000_000)?;
        let columns: Vec<ColumnMeta> = content
            .columns
            .all()
            .iter()
            .map(|c| ColumnMeta {
                id: c.id.clone(),
                name: c.name.clone(),
                parent: c.parent.clone(),
            })
            .collect();
        let ordinal: HashMap<&str, u64> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i as u64))
            .collect();
        for item in &content.items {
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.id, &item.id);
            doc.add_text(fields.title, &item.title);
            doc.add_text(
                fields.words,
                format!("{}\n{}", item.title, item.keywords.join("\n")),
            );
            doc.add_text(fields.keywords, item.keywords.join("\n"));
            doc.add_text(fields.keyword, item.keywords.join("\n"));
            let guide_text = item.guide.as_ref().map(guide_text).unwrap_or_default();
            doc.add_text(fields.guide, &guide_text);
            let mut meta = vec![item.kind.label_zh().to_owned()];
            meta.extend(
                content
                    .columns
                    .path(&item.column)
                    .iter()
                    .map(|s| s.to_string()),
            );
            meta.extend(item.publisher.iter().chain(&item.topic).cloned());
            doc.add_text(fields.meta, meta.join("\n"));
            let body = item.body.plain_text();
            doc.add_text(fields.body, &body);
            doc.add_text(fields.text_words, format!("{body}\n{guide_text}"));
            let printed = printed_doc_numbers(item, &body);
            let numbers: Vec<&str> = item
                .doc_number
                .iter()
                .chain(&item.index_number)
                .chain(&printed)
                .map(String::as_str)
                .collect();
            doc.add_text(fields.docno, numbers.join("\n"));
            doc.add_u64(fields.kind, kind_ordinal(item.kind));
            let column = ordinal.get(item.column.as_str()).copied().unwrap_or(0);
            doc.add_u64(fields.column, column);
            let top = content
                .columns
                .top_of(&item.column)
                .and_then(|c| ordinal.get(c.id.as_str()))
                .copied();
            doc.add_u64(fields.top, top.unwrap_or(column));
            doc.add_u64(fields.year, item.date.map_or(0, |d| u64::from(d.year())));
            doc.add_i64(
                fields.date,
                item.date.map_or(i64::MIN, Date::days_since_epoch),
            );
            let snippet_text = if guide_text.is_empty() {
                body
            } else {
                format!("{body}\n{guide_text}")
            };
            doc.add_text(fields.snippet, snippet_text);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;

        let vocabulary = Vocabulary::build(content);
        let meta = IndexMeta {
            schema_version: SCHEMA_VERSION,
            key: key.to_owned(),
            site_id: content.site.id.clone(),
            site_name: content.site.name.clone(),
            columns,
            items: content.items.len(),
            synonyms: Synonyms::new(&content.synonyms),
        };
        write_json(&dir.join(VOCABULARY_FILE), vocabulary.data())?;
        // The first keystroke's results, computed now so that the screen answers it at once.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut built = SearchIndex {
            index,
            reader,
            fields,
            meta: meta.clone(),
            vocabulary,
            dir: dir.to_owned(),
            first_keystrokes: HashMap::new(),
        };
        let keys: Vec<String> = built
            .vocabulary
            .data()
            .suggestions
            .keys()
            .filter(|k| k.chars().count() == 1)
            .cloned()
            .collect();
        let mut first_keystrokes = HashMap::with_capacity(keys.len());
        for key in keys {
            let results = built.search(&SearchRequest::new(key.clone()))?;
            first_keystrokes.insert(key, results);
        }
        built.first_keystrokes = first_keystrokes;
        write_json(&dir.join(FIRST_KEYSTROKES_FILE), &built.first_keystrokes)?;
        // The metadata is written last: its presence marks a complete index.
        write_json(&dir.join(META_FILE), &meta)?;
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir))?;
        Ok(())
    }

    /// Opens a complete index folder.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        let meta: IndexMeta = read_json(&dir.join(META_FILE))?;
        if meta.schema_version != SCHEMA_VERSION {
            return Err(SearchError::Corrupt(format!(
                "{} has schema version {}, this program reads {SCHEMA_VERSION}",
                dir.display(),
                meta.schema_version
            )));
        }
        let vocabulary =
            Vocabulary::from_data(read_json::<VocabularyData>(&dir.join(VOCABULARY_FILE))?);
        let index = Index::open_in_dir(dir)?;
        register_tokenizers(&index);
        let (_, fields) = schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let first_keystrokes = match fs::metadata(dir.join(FIRST_KEYSTROKES_FILE)) {
            Ok(_) => read_json(&dir.join(FIRST_KEYSTROKES_FILE))?,
            Err(_) => HashMap::new(),
        };
        Ok(SearchIndex {
            index,
            reader,
            fields,
            meta,
            vocabulary,
            dir: dir.to_owned(),
            first_keystrokes,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn key(&self) -> &str {
        &self.meta.key
    }

    pub fn item_count(&self) -> usize {
        self.meta.items
    }

    pub fn site_name(&self) -> &str {
        &self.meta.site_name
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The tantivy index, for tools that inspect it (its size, its segments).
    pub fn tantivy(&self) -> &Index {
        &self.index
    }

    /// Runs a search. A query with nothing searchable in it (empty, punctuation) finds nothing.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let plain = request.kind.is_none()
            && request.column.is_none()
            && request.year.is_none()
            && request.sort == Sort::Relevance
            && request.offset == 0;
        if plain {
            let stored = self.first_keystrokes.get(&normalize(&request.query));
            if let Some(results) =
                stored.filter(|r| request.limit <= r.hits.len() || r.total == r.hits.len())
            {
                let mut results = results.clone();
                results.hits.truncate(request.limit.max(1));
                return Ok(results);
            }
        }
        let plan = plan::plan(&request.query, &self.vocabulary, &self.meta.synonyms);
        tracing::debug!(?plan, "search plan");
        let mut results = SearchResults {
            query: plan.normalized.clone(),
            shortened: plan.shortened,
            ..SearchResults::default()
        };
        if plan.is_empty() {
            results.blank = true;
            return Ok(results);
        }
        let filters = self.filters(request)?;
        let searcher = self.reader.searcher();
        let limit = request.limit.clamp(1, 200);
        let mut relaxed = false;
        let mut query = self.query(&plan, false);
        // Without filters, one pass gives the page, the total and the facets together.
        // A sentence (five deciding words or more) is ranked by how much of it an item covers,
        // weighted by how rare each word is, rather than cut at a share of its words: the rare
        // word (宅基地) matters more than the everyday ones around it (村里, 儿子, 新房).
        let sentence = plan
            .conjunctions
            .iter()
            .any(|c| c.groups.iter().filter(|g| g.firm()).count() >= 5);
        let (mut addresses, mut total, mut facets) = if sentence {
            Default::default()
        } else {
            self.run(&searcher, query.as_ref(), &[], request, limit, true)?
        };
        if (sentence || facets.total < FEW) && plan.conjunctions.iter().any(|c| c.groups.len() > 1)
        {
            // Few items or none cover enough of the words: those that cover some of them
            // follow, after the ones that cover enough.
            relaxed = !sentence && facets.total == 0;
            let enough = query;
            query = Box::new(BooleanQuery::new(vec![
                (Occur::Must, self.query(&plan, true)),
                (Occur::Should, enough),
            ]));
            (addresses, total, facets) =
                self.run(&searcher, query.as_ref(), &[], request, limit, true)?;
        }
        if !filters.is_empty() {
            // The chips count every match; the page and its total follow the filters.
            (addresses, total, _) =
                self.run(&searcher, query.as_ref(), &filters, request, limit, false)?;
        }
        let words = plan.words();
        for (score, address) in addresses {
            results
                .hits
                .push(self.hit(&searcher, address, score, &words)?);
        }
        results.total = total;
        results.relaxed = relaxed && total > 0;
        results.facets = self.named_facets(&facets);
        if facets.total == 0 {
            results.suggestion = self.suggestion(&plan, &searcher)?;
            results.popular = self
                .vocabulary
                .data()
                .terms
                .iter()
                .take(8)
                .map(|t| t.text.clone())
                .collect();
        } else {
            // Results that come through a rule or a corrected spelling: say what was searched.
            results.searched_as = plan.searched_as.clone();
        }
        Ok(results)
    }

    /// A search with the reasons: how the query was understood, and for each result on the
    /// page, where each of its words matched and what that added to the score.
    pub fn explain(&self, request: &SearchRequest) -> Result<Explanation, SearchError> {
        let plan = plan::plan(&request.query, &self.vocabulary, &self.meta.synonyms);
        let mut results = self.search(request)?;
        // A stored first-keystroke answer does not say it; the plan does.
        if results.searched_as.is_none() && results.total > 0 {
            results.searched_as = plan.searched_as.clone();
        }
        let searcher = self.reader.searcher();
        let f = self.fields;
        let fields = [
            ("title", f.title, false),
            ("keywords", f.keywords, false),
            ("title word", f.words, true),
            ("keyword", f.keyword, true),
            ("column/publisher", f.meta, false),
            ("guide", f.guide, false),
            ("body", f.body, false),
            ("body word", f.text_words, true),
        ];
        let mut hits = Vec::new();
        for hit in &results.hits {
            let mut words = Vec::new();
            for (c, conjunction) in plan.conjunctions.iter().enumerate() {
                for group in &conjunction.groups {
                    let mut matched = Vec::new();
                    for alternative in &group.alternatives {
                        for (name, field, whole_word) in fields {
                            let query: Option<Box<dyn Query>> = if whole_word {
                                let text = if field == f.keyword {
                                    alternative.text.clone()
                                } else {
                                    alternative.text.replace(' ', "")
                                };
                                Some(Box::new(TermQuery::new(
                                    Term::from_field_text(field, &text),
                                    IndexRecordOption::WithFreqs,
                                )))
                            } else {
                                phrase(field, &query_tokens(&alternative.text), alternative.prefix)
                            };
                            let Some(query) = query else { continue };
                            if let Some(score) = self.score_of(&searcher, query, &hit.id)? {
                                matched.push(WordMatch {
                                    word: alternative.text.clone(),
                                    field: name,
                                    score,
                                });
                            }
                        }
                    }
                    words.push(GroupMatch {
                        conjunction: c,
                        group: group
                            .alternatives
                            .first()
                            .map(|a| a.text.clone())
                            .unwrap_or_default(),
                        decides: group.firm(),
                        matched,
                    });
                }
            }
            hits.push(HitExplanation {
                id: hit.id.clone(),
                title: hit.title.clone(),
                score: hit.score,
                words,
            });
        }
        Ok(Explanation {
            plan,
            results,
            hits,
        })
    }

    /// The score of `query` for one item, or `None` where it does not match the item.
    fn score_of(
        &self,
        searcher: &Searcher,
        query: Box<dyn Query>,
        id: &str,
    ) -> Result<Option<f32>, SearchError> {
        let item: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(self.fields.id, id),
                IndexRecordOption::Basic,
            )),
            0.0,
        ));
        let both = BooleanQuery::new(vec![(Occur::Must, item), (Occur::Must, query)]);
        let found = searcher.search(&both, &TopDocs::with_limit(1).order_by_score())?;
        Ok(found.first().map(|(score, _)| *score))
    }

    /// One search pass: the requested page of `query` under `filters`, the total, and (when asked)
    /// the facet counts.
    fn run(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        filters: &[Box<dyn Query>],
        request: &SearchRequest,
        limit: usize,
        with_facets: bool,
    ) -> Result<(Vec<(f32, DocAddress)>, usize, RawFacets), SearchError> {
        let filtered: Box<dyn Query>;
        let query: &dyn Query = if filters.is_empty() {
            query
        } else {
            let mut clauses = vec![(Occur::Must, query.box_clone())];
            clauses.extend(filters.iter().map(|f| (Occur::Must, f.box_clone())));
            filtered = Box::new(BooleanQuery::new(clauses));
            filtered.as_ref()
        };
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        let facets_collector = with_facets.then_some(FacetCollector);
        let (addresses, total, facets) = match request.sort {
            Sort::Relevance => {
                searcher.search(query, &(top.order_by_score(), Count, facets_collector))?
            }
            Sort::Date => {
                let (by_date, total, facets) = searcher.search(
                    query,
                    &(
                        top.order_by_fast_field::<i64>("date", Order::Desc),
                        Count,
                        facets_collector,
                    ),
                )?;
                (
                    by_date
                        .into_iter()
                        .map(|(_, address)| (0.0, address))
                        .collect(),
                    total,
                    facets,
                )
            }
        };
        Ok((addresses, total, facets.unwrap_or_default()))
    }

    fn filters(&self, request: &SearchRequest) -> Result<Vec<Box<dyn Query>>, SearchError> {
        let f = self.fields;
        let term = |field: Field, value: u64| -> Box<dyn Query> {
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_u64(field, value),
                    IndexRecordOption::Basic,
                )),
                0.0,
            ))
        };
        let mut filters = Vec::new();
        if let Some(kind) = request.kind {
            filters.push(term(f.kind, kind_ordinal(kind)));
        }
        if let Some(column) = &request.column {
            let position = self
                .meta
                .columns
                .iter()
                .position(|c| c.id == *column)
                .ok_or_else(|| SearchError::UnknownColumn(column.clone()))?;
            let field = if self.meta.columns[position].parent.is_none() {
                f.top
            } else {
                f.column
            };
            filters.push(term(field, position as u64));
        }
        if let Some(year) = request.year {
            filters.push(term(f.year, u64::from(year)));
        }
        Ok(filters)
    }

    /// The tantivy query for a plan. `relaxed` asks for any one group of a conjunction instead of
    /// the share [`plan::required`] asks for.
    fn query(&self, plan: &Plan, relaxed: bool) -> Box<dyn Query> {
        let f = self.fields;
        let mut readings: Vec<Box<dyn Query>> = Vec::new();
        for conjunction in &plan.conjunctions {
            // Groups that decide what matches, and groups that only rank: the word still being
            // typed, general words, single characters.
            let mut firm: Vec<Box<dyn Query>> = Vec::new();
            let mut ranking: Vec<Box<dyn Query>> = Vec::new();
            for group in &conjunction.groups {
                let query = self.group(group);
                if group.firm() {
                    firm.push(query);
                } else {
                    ranking.push(Box::new(BoostQuery::new(query, 0.5)));
                }
            }
            if firm.is_empty() {
                // Only a word being typed (a single group): it decides after all.
                firm = std::mem::take(&mut ranking);
            }
            let n = firm.len();
            let required = if relaxed { 1 } else { plan::required(n) };
            let decided: Box<dyn Query> = if n == 1 {
                firm.pop().expect("one group")
            } else {
                Box::new(BooleanQuery::union_with_minimum_required_clauses(
                    firm, required,
                ))
            };
            let conjunction_query: Box<dyn Query> = if ranking.is_empty() {
                decided
            } else {
                let mut clauses = vec![(Occur::Must, decided)];
                clauses.extend(ranking.into_iter().map(|q| (Occur::Should, q)));
                Box::new(BooleanQuery::new(clauses))
            };
            readings.push(Box::new(BoostQuery::new(
                conjunction_query,
                conjunction.weight,
            )));
        }
        if let Some(number) = &plan.doc_number {
            if let Some(query) = phrase(f.docno, &query_tokens(number), true) {
                readings.push(Box::new(BoostQuery::new(query, 8.0)));
            }
        }
        // The best reading of the query counts (as typed, put right, rewritten, a document
        // number), with a little for the others: an item does not win by saying the visitor's
        // words in its body when another says the official ones in its title.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            Box::new(DisjunctionMaxQuery::with_tie_breaker(readings, 0.3)),
        )];
        // The query's phrases as typed rank an item higher where they stand whole (a one-word
        // query is already matched as that phrase).
        let several_words = plan
            .conjunctions
            .first()
            .is_some_and(|c| c.groups.len() > 1);
        for text in plan.phrases.iter().filter(|_| several_words) {
            let tokens = query_tokens(text);
            if tokens.len() > 1 {
                for (field, boost) in [(f.title, 3.0), (f.keywords, 2.0), (f.body, 0.5)] {
                    if let Some(query) = phrase(field, &tokens, false) {
                        clauses.push((Occur::Should, Box::new(BoostQuery::new(query, boost))));
                    }
                }
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// One group: the best alternative counts, so an item that holds two readings of the same
    /// typed word is not worth more than one that holds the best reading.
    fn group(&self, group: &plan::Group) -> Box<dyn Query> {
        let alternatives: Vec<Box<dyn Query>> = group
            .alternatives
            .iter()
            .map(|alternative| {
                Box::new(BoostQuery::new(
                    self.alternative(alternative),
                    alternative.weight,
                )) as Box<dyn Query>
            })
            .collect();
        Box::new(DisjunctionMaxQuery::with_tie_breaker(alternatives, 0.1))
    }

    /// One word in every text field: the best field counts (title over keywords over body). A
    /// compound also matches where its words stand apart, a little lower than where it is whole.
    fn alternative(&self, alternative: &Alternative) -> Box<dyn Query> {
        let whole = self.word(&alternative.text, alternative.prefix);
        if alternative.parts.is_empty() {
            return whole;
        }
        let apart: Vec<Box<dyn Query>> = alternative
            .parts
            .iter()
            .map(|part| self.word(part, false))
            .collect();
        let required = plan::required(apart.len());
        let apart = BooleanQuery::union_with_minimum_required_clauses(apart, required);
        Box::new(DisjunctionMaxQuery::with_tie_breaker(
            vec![whole, Box::new(BoostQuery::new(Box::new(apart), 0.4))],
            0.0,
        ))
    }

    /// One word (or the start of one) in every text field.
    fn word(&self, text: &str, prefix: bool) -> Box<dyn Query> {
        let f = self.fields;
        let tokens = query_tokens(text);
        // A dictionary word is looked for among the words of the body, where another pair of
        // words can not fake it (会领 in 社会领域); a word the dictionary does not know (a name,
        // a new term), or one still being typed, as its characters.
        let by_words = !prefix && text.chars().all(is_han) && words::is_word(text);
        let mut fields = vec![(f.title, 5.0), (f.keywords, 4.0), (f.meta, 1.2)];
        if !by_words {
            fields.extend([(f.guide, 1.5), (f.body, 1.0)]);
        }
        let mut parts: Vec<Box<dyn Query>> = Vec::new();
        for (field, boost) in fields {
            if let Some(query) = phrase(field, &tokens, prefix) {
                parts.push(Box::new(BoostQuery::new(query, boost)));
            }
        }
        let term = |field: Field, text: &str, boost: f32| -> Box<dyn Query> {
            let term = Term::from_field_text(field, text);
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                boost,
            ))
        };
        if by_words {
            parts.push(term(f.text_words, text, 1.2));
        }
        if prefix || text.contains(' ') {
            return Box::new(DisjunctionMaxQuery::with_tie_breaker(parts, 0.2));
        }
        // The word stands whole in the title or keywords (社保 in 社保卡补换, not only 社保 as
        // part of a longer word).
        parts.push(term(f.words, text, 2.0));
        let best_field = Box::new(DisjunctionMaxQuery::with_tie_breaker(parts, 0.2));
        // A keyword that is exactly the word, above all the item's first keyword (its main
        // subject), tells which of several items with the word in the title is meant.
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, best_field as Box<dyn Query>),
            (Occur::Should, term(f.keyword, text, 1.0)),
            (Occur::Should, term(f.keyword, &format!("^{text}"), 6.0)),
        ]))
    }

    fn named_facets(&self, raw: &RawFacets) -> Facets {
        let mut facets = Facets::default();
        for (i, &count) in raw.kinds.iter().enumerate() {
            if count > 0 {
                facets.kinds.push((ItemKind::ALL[i], count));
            }
        }
        for (ordinal, &count) in raw.tops.iter().enumerate().filter(|(_, &n)| n > 0) {
            if let Some(column) = self.meta.columns.get(ordinal) {
                facets
                    .columns
                    .push((column.id.clone(), column.name.clone(), count));
            }
        }
        let mut years: Vec<(u16, usize)> = raw
            .years
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, &n)| n > 0)
            .map(|(at, &n)| ((FIRST_YEAR as usize + at) as u16, n))
            .collect();
        years.sort_by(|a, b| b.0.cmp(&a.0));
        facets.years = years;
        facets
    }

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: f32,
        words: &[String],
    ) -> Result<Hit, SearchError> {
        let f = self.fields;
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let number = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_u64())
                .unwrap_or_default()
        };
        let kind = ItemKind::ALL
            .get(number(f.kind) as usize)
            .copied()
            .unwrap_or(ItemKind::Disclosure);
        let column = self.meta.columns.get(number(f.column) as usize);
        let column_path = column
            .map(|c| {
                let parent = c
                    .parent
                    .as_ref()
                    .and_then(|p| self.meta.columns.iter().find(|x| x.id == *p));
                match parent {
                    Some(parent) => format!("{} / {}", parent.name, c.name),
                    None => c.name.clone(),
                }
            })
            .unwrap_or_default();
        let date = doc
            .get_first(f.date)
            .and_then(|v| v.as_i64())
            .and_then(Date::from_days_since_epoch);
        let title = text(f.title);
        Ok(Hit {
            id: text(f.id),
            kind,
            title_highlights: snippet(&title, words, usize::MAX / 4).highlights,
            title,
            column_id: column.map(|c| c.id.clone()).unwrap_or_default(),
            column: column_path,
            date,
            score,
            snippet: snippet(&text(f.snippet), words, SNIPPET_WIDTH),
        })
    }

    /// "Did you mean": for a query that found nothing, a close known word that finds something.
    fn suggestion(&self, plan: &Plan, searcher: &Searcher) -> Result<Option<String>, SearchError> {
        let normalized = &plan.normalized;
        let mut candidates = Vec::new();
        if let Some(best) = self
            .vocabulary
            .candidates(normalized, 1, 1)
            .into_iter()
            .next()
        {
            candidates.push(best.text);
        }
        for word in words::cut(normalized) {
            if let Some(better) = self.vocabulary.did_you_mean(word) {
                candidates.push(normalized.replacen(word, &better, 1));
            }
        }
        for candidate in candidates {
            if candidate == *normalized {
                continue;
            }
            let plan = plan::plan(&candidate, &self.vocabulary, &self.meta.synonyms);
            if !plan.is_empty() && searcher.search(self.query(&plan, false).as_ref(), &Count)? > 0 {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }
}

/// A phrase of positioned tokens in one field; the last token may be a prefix.
fn phrase(field: Field, tokens: &[(usize, String)], prefix: bool) -> Option<Box<dyn Query>> {
    let terms: Vec<(usize, Term)> = tokens
        .iter()
        .map(|(position, t)| (*position, Term::from_field_text(field, t)))
        .collect();
    match (terms.len(), prefix) {
        (0, _) => None,
        (_, true) => Some(Box::new(PhrasePrefixQuery::new_with_offset(terms))),
        (1, false) => {
            let (_, term) = terms.into_iter().next().expect("one term");
            Some(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)))
        }
        (_, false) => Some(Box::new(PhraseQuery::new_with_offset(terms))),
    }
}

/// The document numbers an item without one of its own prints: those in its title, and the
/// first at the top of its body before anything is cited (the 文号 under a page's title; real
/// imports often lack the field).
fn printed_doc_numbers(item: &crate::content::Item, body: &str) -> Vec<String> {
    if item.doc_number.is_some() {
        return Vec::new();
    }
    let mut numbers: Vec<String> = doc_numbers(&normalize(&item.title))
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    // Only the top of the body is normalised: it may run to a hundred thousand characters.
    let head = normalize(&body.chars().take(120).collect::<String>());
    if let Some((at, number)) = doc_numbers(&head).into_iter().next() {
        let cites = head.chars().take(at).any(|c| c == '《');
        if at < 80 && !cites {
            numbers.push(number);
        }
    }
    numbers
}

/// The guide fields visitors search by: conditions, materials, steps, place, fee, basis.
fn guide_text(guide: &crate::content::Guide) -> String {
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(guide.item_type.as_deref());
    parts.extend(guide.applicants.as_deref());
    parts.extend(guide.conditions.iter().map(String::as_str));
    for material in &guide.materials {
        parts.push(&material.name);
        parts.extend(material.note.as_deref());
    }
    parts.extend(guide.steps.iter().map(String::as_str));
    parts.extend(guide.location.as_deref());
    parts.extend(guide.fee.as_deref());
    parts.extend(guide.basis.iter().map(String::as_str));
    parts.join("\n")
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), SearchError> {
    let bytes = serde_json::to_vec(value).map_err(|err| SearchError::Corrupt(err.to_string()))?;
    let file = fs::File::create(path).map_err(io_error(path))?;
    use std::io::Write;
    let mut writer = std::io::BufWriter::new(file);
    writer.write_all(&bytes).map_err(io_error(path))?;
    let file = writer
        .into_inner()
        .map_err(|err| io_error(path)(err.into_error()))?;
    file.sync_all().map_err(io_error(path))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SearchError> {
    let bytes = fs::read(path).map_err(io_error(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|err| SearchError::Corrupt(format!("{}: {err}", path.display())))
}

/// A search with its reasons: see [`SearchIndex::explain`].
#[derive(Debug, Clone)]
pub struct Explanation {
    pub plan: Plan,
    pub results: SearchResults,
    pub hits: Vec<HitExplanation>,
}

/// Why one result ranks where it does.
#[derive(Debug, Clone)]
pub struct HitExplanation {
    pub id: String,
    pub title: String,
    pub score: f32,
    /// Each group of each conjunction of the plan, in order.
    pub words: Vec<GroupMatch>,
}

/// Where one group of the query matched in one result.
#[derive(Debug, Clone)]
pub struct GroupMatch {
    /// Which conjunction of the plan (0: as typed).
    pub conjunction: usize,
    /// The group's first alternative.
    pub group: String,
    /// Whether the group decides what matches (else it only ranks).
    pub decides: bool,
    pub matched: Vec<WordMatch>,
}

/// One alternative found in one field.
#[derive(Debug, Clone)]
pub struct WordMatch {
    pub word: String,
    pub field: &'static str,
    /// The field's own score for the word, before the boosts of the plan.
    pub score: f32,
}

/// Counts of matching documents by kind, first-level column and year.
#[derive(Debug, Default)]
struct RawFacets {
    total: usize,
    kinds: [usize; 4],
    /// By first-level column ordinal.
    tops: Vec<usize>,
    /// By year, from [`FIRST_YEAR`]; index 0 holds the undated and the out of range.
    years: Vec<usize>,
}

const FIRST_YEAR: u64 = 1900;
const YEARS: usize = 256;

fn add(counts: &mut Vec<usize>, at: usize, n: usize) {
    if counts.len() <= at {
        counts.resize(at + 1, 0);
    }
    counts[at] += n;
}

struct FacetCollector;

struct FacetSegment {
    kind: Column<u64>,
    top: Column<u64>,
    year: Column<u64>,
    counts: RawFacets,
}

impl Collector for FacetCollector {
    type Fruit = RawFacets;
    type Child = FacetSegment;

    fn for_segment(&self, _: u32, reader: &SegmentReader) -> tantivy::Result<FacetSegment> {
        let fast = reader.fast_fields();
        Ok(FacetSegment {
            kind: fast.u64("kind")?,
            top: fast.u64("top")?,
            year: fast.u64("year")?,
            counts: RawFacets::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<RawFacets>) -> tantivy::Result<RawFacets> {
        let mut all = RawFacets::default();
        for fruit in fruits {
            all.total += fruit.total;
            for (i, n) in fruit.kinds.iter().enumerate() {
                all.kinds[i] += n;
            }
            for (k, n) in fruit.tops.into_iter().enumerate() {
                add(&mut all.tops, k, n);
            }
            for (k, n) in fruit.years.into_iter().enumerate() {
                add(&mut all.years, k, n);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = RawFacets;

    fn collect(&mut self, doc: u32, _score: f32) {
        self.counts.total += 1;
        if let Some(kind) = self.kind.first(doc) {
            if let Some(slot) = self.counts.kinds.get_mut(kind as usize) {
                *slot += 1;
            }
        }
        if let Some(top) = self.top.first(doc) {
            add(&mut self.counts.tops, top as usize, 1);
        }
        if let Some(year) = self.year.first(doc) {
            let at = year.checked_sub(FIRST_YEAR).map_or(0, |y| y as usize);
            add(&mut self.counts.years, if at < YEARS { at } else { 0 }, 1);
        }
    }

    fn harvest(self) -> RawFacets {
        self.counts
    }
}
