# frozen_string_literal: true

module DeltaLake
  # Changes to a table's definition, each committed as a new version.
  class TableAlterer
    # @!visibility private
    FEATURES = {
      append_only: "appendOnly",
      invariants: "invariants",
      check_constraints: "checkConstraints",
      change_data_feed: "changeDataFeed",
      generated_columns: "generatedColumns",
      column_mapping: "columnMapping",
      identity_columns: "identityColumns",
      deletion_vectors: "deletionVectors",
      row_tracking: "rowTracking",
      timestamp_without_timezone: "timestampNtz",
      domain_metadata: "domainMetadata",
      v2_checkpoint: "v2Checkpoint",
      iceberg_compat_v1: "icebergCompatV1",
      vacuum_protocol_check: "vacuumProtocolCheck",
      type_widening: "typeWidening",
      variant_type: "variantType",
      in_commit_timestamp: "inCommitTimestamp"
    }.freeze

    # @!visibility private
    def initialize(table)
      @table = table
    end

    # Add table features by name (a Symbol such as :append_only, or the protocol's name).
    # @param feature [Symbol, String, Array]
    # @return [nil]
    def add_feature(feature, allow_protocol_versions_increase: false, commit_properties: nil)
      names =
        Array(feature).map do |f|
          next FEATURES.fetch(f) { raise ArgumentError, "Invalid feature" } if f.is_a?(Symbol)
          raise ArgumentError, "Invalid feature" unless f.is_a?(String)

          f
        end
      @table._table.add_features(names, Utils.commit_json(commit_properties))
      nil
    end

    # Add nullable columns.
    # @param fields [Field, Array<Field>]
    # @return [nil]
    def add_columns(fields, commit_properties: nil)
      fields = Array(fields)
      return nil if fields.empty?
      raise ArgumentError, "add_columns takes DeltaLake::Field objects" unless fields.all?(Field)

      json = JSON.generate("type" => "struct", "fields" => fields.map(&:to_delta))
      @table._table.add_columns(json, Utils.commit_json(commit_properties))
      nil
    end

    # Add CHECK constraints, `{"name" => "SQL predicate"}`; every existing row must satisfy them.
    # @return [nil]
    def add_constraint(constraints, commit_properties: nil)
      raise ArgumentError, "add_constraint takes a Hash of name => SQL predicate" unless constraints.is_a?(Hash) && !constraints.empty?

      constraints.each do |name, expression|
        @table._table.add_constraint(name.to_s, expression.to_s, Utils.commit_json(commit_properties))
      end
      nil
    end

    # Drop a CHECK constraint; a missing one raises unless `raise_if_not_exists` is false.
    # @return [nil]
    def drop_constraint(name, raise_if_not_exists: true, commit_properties: nil)
      @table._table.drop_constraint(name.to_s, !raise_if_not_exists, Utils.commit_json(commit_properties))
      nil
    end

    # Set table properties (`delta.*` values are checked).
    # @param properties [Hash{String=>String}]
    # @return [nil]
    def set_table_properties(properties, raise_if_not_exists: true, commit_properties: nil)
      @table._table.set_table_properties(Utils.string_hash(properties), Utils.commit_json(commit_properties))
      nil
    end

    # Set the table's name.
    # @return [nil]
    def set_table_name(name, commit_properties: nil)
      @table._table.set_table_name(name.to_s, Utils.commit_json(commit_properties))
      nil
    end

    # Set the table's description.
    # @return [nil]
    def set_table_description(description, commit_properties: nil)
      @table._table.set_table_description(description.to_s, Utils.commit_json(commit_properties))
      nil
    end
  end
end
