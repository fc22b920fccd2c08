CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total NUMERIC, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO customers (id, name, email, created_at) VALUES (1, 'Ada', 'ada@example.com', '2024-01-02 03:04:05'), (2, 'Bob', 'bob@example.com', '2024-02-03 04:05:06'), (3, 'Cy; DROP', NULL, '2024-03-04 05:06:07');
INSERT INTO orders (id, customer_id, total, created_at) VALUES (1, 1, 10.50, '2024-04-01 00:00:00'), (2, 1, 99.99, '2024-04-02 00:00:00'), (3, 2, 5.00, '2024-04-03 00:00:00');
INSERT INTO t (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');
