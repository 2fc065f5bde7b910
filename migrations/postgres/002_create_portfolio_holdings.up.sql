-- description: Holdings per user, one row per symbol
CREATE TABLE portfolio_holdings (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    symbol TEXT NOT NULL,
    quantity NUMERIC(20, 8) NOT NULL CHECK (quantity >= 0),
    UNIQUE (user_id, symbol)
);
CREATE INDEX idx_portfolio_holdings_symbol ON portfolio_holdings (symbol);
