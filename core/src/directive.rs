use crate::Language;

/// What the comment lines at the top of a migration file say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `migrate:no-transaction`: the file runs outside a transaction.
    pub no_transaction: bool,
    /// `migrate:irreversible`: the migration cannot be reverted. It belongs
    /// in the down file, which then holds no statement.
    pub irreversible: bool,
    /// The text after `description:`, trimmed; `None` when the header has
    /// no such line or leaves it empty. The last one wins.
    pub description: Option<String>,
    /// `migrate:allow-in-transaction`: run the file in a transaction even
    /// though it holds statements a database refuses or ignores there. It
    /// never permits a statement that ends, opens or escapes that
    /// transaction, nor SQLite's foreign key pragmas (see `refusal`).
    pub allow_in_transaction: bool,
    /// `migrate:noop`: the file holds no statement on purpose (a version
    /// kept to align sets across databases); the build accepts it empty.
    pub noop: bool,
    /// `migrate:batch size=N`: the arguments as written (checked by
    /// `batch::BatchSpec::from_header`).
    pub batch: Option<String>,
    /// `migrate:total <query>`: the count query for a batch migration's progress.
    pub total: Option<String>,
    /// `migrate:timeout statement=<duration> lock=<duration>`: the
    /// arguments as written (checked by `timeout::Timeouts::from_header`).
    pub timeout: Option<String>,
    /// `migrate:allow <rule> <reason>`: lint rules this file is allowed to
    /// break, each with the reason written beside it (checked by
    /// `lint::check_allows`: the rule must exist, the reason must be given).
    pub allows: Vec<Allow>,
    /// `migrate:baseline <first>..<last> migrations=N chain=H`: the
    /// arguments as written (checked by `baseline::Squashed::parse`).
    pub baseline: Option<String>,
}

/// One `migrate:allow <rule> <reason>` line of a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    /// The lint rule's name, as written.
    pub rule: String,
    /// Why the file may break it; empty when the line gives none, which the
    /// folder check refuses.
    pub reason: String,
    /// 1-based line of the directive in the file.
    pub line: usize,
}

impl Header {
    /// Records one directive, the text after `migrate:`; false when it is
    /// not one of [`DIRECTIVES`].
    fn read(&mut self, directive: &str, line: usize) -> bool {
        match directive {
            "no-transaction" => self.no_transaction = true,
            "irreversible" => self.irreversible = true,
            "allow-in-transaction" => self.allow_in_transaction = true,
            "noop" => self.noop = true,
            // The directives of a batch migration take arguments, kept as
            // written: `batch::BatchSpec` checks them.
            other => {
                let (word, arguments) = other.split_once(char::is_whitespace).unwrap_or((other, ""));
                match word {
                    "batch" => self.batch = Some(arguments.trim().to_string()),
                    "total" => self.total = Some(arguments.trim().to_string()),
                    "timeout" => self.timeout = Some(arguments.trim().to_string()),
                    "baseline" => self.baseline = Some(arguments.trim().to_string()),
                    "allow" => {
                        let arguments = arguments.trim();
                        let (rule, reason) = arguments.split_once(char::is_whitespace).unwrap_or((arguments, ""));
                        self.allows.push(Allow {
                            rule: rule.to_string(),
                            reason: reason.trim().to_string(),
                            line,
                        });
                    }
                    _ => return false,
                }
            }
        }
        true
    }
}

/// The directives this version understands. Anything else after `migrate:` is
/// refused, so a typo such as `no-transacton` cannot silently run a file in a
/// transaction it was meant to avoid.
pub(crate) const DIRECTIVES: &[&str] = &[
    "no-transaction",
    "irreversible",
    "allow-in-transaction",
    "noop",
    "batch size=N",
    "total <count query>",
    "timeout statement=<duration> lock=<duration>",
    "allow <lint rule> <reason>",
    "baseline <first>..<last> migrations=N chain=H",
];

/// Reads the header: the comment and blank lines before the first statement.
/// Returns the header, or `(line number, directive)` of the first unknown
/// directive. A leading BOM is skipped, or it would hide the first line.
pub fn parse_header(text: &str, language: Language) -> Result<Header, (usize, String)> {
    let text = crate::split::strip_bom(text);
    let marker = language.comment();
    let mut header = Header::default();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix(marker) else {
            break;
        };
        let comment = comment.trim();
        if let Some(directive) = comment.strip_prefix("migrate:") {
            let directive = directive.trim();
            if !header.read(directive, index + 1) {
                return Err((index + 1, directive.to_string()));
            }
        } else if let Some(description) = comment.strip_prefix("description:") {
            let description = description.trim();
            if !description.is_empty() {
                header.description = Some(description.to_string());
            }
        }
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use crate::directive::parse_header;
    use crate::Language;

    #[test]
    fn reads_directives_until_the_first_statement() {
        let text = "-- description: Add users\n\n-- migrate:no-transaction\nCREATE TABLE a (id INT);\n-- migrate:irreversible\n";
        let header = parse_header(text, Language::Sql).unwrap();
        assert!(header.no_transaction);
        assert!(!header.irreversible, "a directive after a statement is a plain comment");
        assert_eq!(header.description.as_deref(), Some("Add users"));
    }

    #[test]
    fn a_bom_does_not_hide_the_first_line() {
        let header = parse_header(
            "\u{feff}-- migrate:no-transaction\n-- description: d\nVACUUM;",
            Language::Sql,
        )
        .unwrap();
        assert!(header.no_transaction);
        assert_eq!(header.description.as_deref(), Some("d"));
        let header = parse_header("\u{feff}// migrate:irreversible\n", Language::Cypher).unwrap();
        assert!(header.irreversible);
    }

    #[test]
    fn reads_noop() {
        let header = parse_header("-- migrate:noop\n-- SQLite has no such extension\n", Language::Sql).unwrap();
        assert!(header.noop);
        assert!(!parse_header("-- noop\n", Language::Sql).unwrap().noop);
    }

    #[test]
    fn reads_allows_with_their_reason_and_line() {
        let text = "-- migrate:allow drop-column the column is unread since v2.3\n-- x\n-- migrate:allow rename-table\nSELECT 1;";
        let header = parse_header(text, Language::Sql).unwrap();
        assert_eq!(header.allows.len(), 2);
        assert_eq!(header.allows[0].rule, "drop-column");
        assert_eq!(header.allows[0].reason, "the column is unread since v2.3");
        assert_eq!(header.allows[0].line, 1);
        assert_eq!(
            (header.allows[1].rule.as_str(), header.allows[1].reason.as_str()),
            ("rename-table", "")
        );
        assert!(
            parse_header("-- migrate:allow-in-transaction\n", Language::Sql)
                .unwrap()
                .allow_in_transaction
        );
    }

    #[test]
    fn refuses_unknown_directives() {
        let err = parse_header("-- migrate:no-transacton\nSELECT 1;", Language::Sql).unwrap_err();
        assert_eq!(err, (1, "no-transacton".to_string()));
        let header = parse_header("// migrate:irreversible\n", Language::Cypher).unwrap();
        assert!(header.irreversible);
    }
}
