"""Creation records: for each signed work, the generator, the prompts (by digest), the inputs
(by hash) and what the people did; and the report a registration or an audit asks for."""
