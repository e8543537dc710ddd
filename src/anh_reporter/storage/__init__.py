"""PostgreSQL storage: server (external or embedded), migrations, partitions, COPY writer."""
