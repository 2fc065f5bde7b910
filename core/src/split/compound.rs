//! Where a compound body ends: the `;` inside a trigger's, procedure's or
//! function's `BEGIN ... END` (with its `IF ... END IF`, `CASE ... END
//! CASE`, loops and labels), or inside a PostgreSQL rule's parenthesised
//! actions, does not end the statement. [`Compound`] follows the words and
//! punctuation of one statement and says whether a `;` is inside such a
//! body.

/// What kind of statement is being read, as far as `;` is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    /// Its first `;` ends it.
    #[default]
    Plain,
    /// After `CREATE`, before the word that says what is created.
    CreateHeader,
    /// A trigger, procedure, function or event (or MariaDB's
    /// `BEGIN NOT ATOMIC`): its compound body holds `;`.
    Routine,
    /// A PostgreSQL rule: its parenthesised actions hold `;`.
    Rule,
}

/// A construct open in a routine's body, closed by `END [IF|CASE|...]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    Block,
    If,
    CaseStatement,
    CaseExpression,
    Loop,
    While,
    Repeat,
    For,
}

/// Per-statement state for finding where a compound body ends. Only what
/// follows is tracked: the kind of statement, the constructs still open, and
/// whether the previous token lets a new statement begin (which tells the
/// `IF` statement from the `IF()` function and `IF EXISTS`, the `REPEAT`
/// loop from the `REPEAT()` function, a `CASE` statement from an expression).
#[derive(Default)]
pub(super) struct Compound {
    kind: Kind,
    words: usize,
    open: Vec<Open>,
    /// The previous token ends a statement or opens a statement list.
    statement_start: bool,
    /// The previous word was an `END` that closed something: an `IF`, `CASE`,
    /// `LOOP`, ... right after it names what it closed.
    after_end: bool,
    /// Inside `DEFINER = user@host` of a MySQL `CREATE`.
    in_definer: bool,
    previous_word_security: bool,
    previous_word_begin: bool,
    /// Parentheses open in a rule.
    parens: usize,
}

impl Compound {
    /// Whether a `;` here is inside a body rather than the statement's end.
    pub(super) fn holds_semicolon(&self) -> bool {
        !self.open.is_empty() || (self.kind == Kind::Rule && self.parens > 0)
    }

    pub(super) fn word(&mut self, word: &[u8]) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        self.words += 1;
        let statement_start = std::mem::take(&mut self.statement_start);
        let after_end = std::mem::take(&mut self.after_end);
        if self.words == 1 {
            if is("CREATE") {
                self.kind = Kind::CreateHeader;
            }
            self.previous_word_begin = is("BEGIN");
            return;
        }
        if self.words == 2 && self.previous_word_begin && is("NOT") {
            // MariaDB's anonymous block: BEGIN NOT ATOMIC ... END.
            self.kind = Kind::Routine;
            self.open.push(Open::Block);
            return;
        }
        match self.kind {
            Kind::Plain | Kind::Rule => {}
            Kind::CreateHeader => self.create_header(word),
            Kind::Routine => self.routine_word(word, statement_start, after_end),
        }
    }

    /// `CREATE [OR REPLACE] [TEMP] [DEFINER = x] [SQL SECURITY y] [CONSTRAINT]
    /// [AGGREGATE] <kind>`: the first other word says what is created.
    fn create_header(&mut self, word: &[u8]) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        let routine = is("TRIGGER") || is("PROCEDURE") || is("FUNCTION") || is("EVENT");
        let security = std::mem::take(&mut self.previous_word_security);
        if self.in_definer && !(routine || is("SQL") || is("AGGREGATE")) {
            return;
        }
        self.in_definer = false;
        if is("DEFINER") && !security {
            self.in_definer = true;
        } else if is("SECURITY") {
            self.previous_word_security = true;
        } else if routine {
            self.kind = Kind::Routine;
        } else if is("RULE") {
            self.kind = Kind::Rule;
        } else if ![
            "OR",
            "REPLACE",
            "TEMP",
            "TEMPORARY",
            "SQL",
            "INVOKER",
            "DEFINER",
            "CONSTRAINT",
            "AGGREGATE",
        ]
        .iter()
        .any(|modifier| is(modifier))
        {
            self.kind = Kind::Plain;
        }
    }

    fn routine_word(&mut self, word: &[u8], statement_start: bool, after_end: bool) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        if after_end && (is("IF") || is("CASE") || is("LOOP") || is("WHILE") || is("REPEAT") || is("FOR")) {
            // END IF, END CASE, ...: the END already closed it.
            return;
        }
        if is("BEGIN") {
            self.open.push(Open::Block);
            self.statement_start = true;
        } else if is("CASE") {
            self.open.push(if statement_start {
                Open::CaseStatement
            } else {
                Open::CaseExpression
            });
        } else if is("IF") && statement_start {
            self.open.push(Open::If);
        } else if is("LOOP") {
            self.open.push(Open::Loop);
            self.statement_start = true;
        } else if is("WHILE") {
            self.open.push(Open::While);
        } else if is("REPEAT") && statement_start {
            self.open.push(Open::Repeat);
            self.statement_start = true;
        } else if is("FOR") && statement_start {
            // MariaDB's FOR ... DO ... END FOR.
            self.open.push(Open::For);
        } else if is("END") {
            self.after_end = self.open.pop().is_some();
        } else if is("THEN") || is("ELSE") {
            self.statement_start = matches!(self.open.last(), Some(Open::If | Open::CaseStatement));
        } else {
            // Words after which a routine's body, or a statement list, begins:
            // WHILE/FOR ... DO, an event's DO, [NOT] ATOMIC, a trigger's
            // FOR EACH ROW, a procedure's characteristics, a handler's
            // condition.
            self.statement_start = [
                "DO",
                "ATOMIC",
                "ROW",
                "DETERMINISTIC",
                "SQL",
                "DATA",
                "INVOKER",
                "DEFINER",
                "SQLEXCEPTION",
                "SQLWARNING",
                "FOUND",
            ]
            .iter()
            .any(|keyword| is(keyword));
        }
    }

    /// Any token other than a word: a punctuation byte (`next` follows it),
    /// or a string or quoted name (`byte` is its opening quote).
    pub(super) fn other(&mut self, byte: u8, previous: Option<u8>, next: Option<u8>) {
        self.words += usize::from(self.words == 0);
        self.after_end = false;
        self.statement_start = match byte {
            b';' => true,
            // A label, `name:`; not `:=`, nor PostgreSQL's `::` cast.
            b':' => previous != Some(b':') && !matches!(next, Some(b':' | b'=')),
            // The end of a procedure's parameter list: its body may follow.
            b')' => self.kind == Kind::Routine && self.open.is_empty(),
            _ => false,
        };
        if self.kind == Kind::Rule {
            match byte {
                b'(' => self.parens += 1,
                b')' => self.parens = self.parens.saturating_sub(1),
                _ => {}
            }
        }
    }
}
