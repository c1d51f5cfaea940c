# frozen_string_literal: true

module DeltaLake
  # A table's schema: its {Field}s in order.
  class Schema
    # @return [Array<Field>]
    attr_reader :fields

    # @param fields [Array<Field>]
    def initialize(fields)
      @fields = fields
    end

    # @!visibility private
    def self.from_json(json)
      doc = JSON.parse(json)
      new(
        doc["fields"].map do |f|
          Field.new(f["name"], Field.type_name(f["type"]), nullable: f["nullable"], metadata: f["metadata"])
        end
      )
    end

    # @return [Array<String>] the column names
    def names
      fields.map(&:name)
    end

    # @return [Field, nil] the column named `name`
    def [](name)
      fields.find { |f| f.name == name.to_s }
    end

    # @return [Boolean]
    def ==(other)
      other.is_a?(Schema) && fields == other.fields
    end
  end
end
