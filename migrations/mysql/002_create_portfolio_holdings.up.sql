-- description: Holdings per user, one row per symbol
CREATE TABLE portfolio_holdings (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    symbol VARCHAR(32) NOT NULL,
    quantity DECIMAL(20, 8) NOT NULL CHECK (quantity >= 0),
    UNIQUE (user_id, symbol),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX idx_portfolio_holdings_symbol ON portfolio_holdings (symbol);
