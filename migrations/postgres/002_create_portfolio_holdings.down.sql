DROP INDEX idx_portfolio_holdings_symbol;
DROP TABLE portfolio_holdings;
