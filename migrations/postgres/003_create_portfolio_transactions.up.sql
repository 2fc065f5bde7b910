-- description: Buy and sell transactions
CREATE TABLE portfolio_transactions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity NUMERIC(20, 8) NOT NULL,
    price NUMERIC(20, 8) NOT NULL,
    executed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_portfolio_transactions_user_time ON portfolio_transactions (user_id, executed_at);
