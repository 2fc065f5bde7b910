SELECT remove_compression_policy('portfolio_snapshots', if_exists => true);
DROP TABLE portfolio_snapshots;
