DROP INDEX idx_portfolio_holdings_symbol ON portfolio_holdings;
DROP TABLE portfolio_holdings;
