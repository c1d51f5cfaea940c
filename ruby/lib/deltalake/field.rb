# frozen_string_literal: true

module DeltaLake
  # A column of a table's schema.
  class Field
    # @return [String] the column name
    attr_reader :name
    # @return [String] the Delta type: "long", "string", "decimal(10,2)", "array<integer>",
    #   "map<string, long>", "struct<a: integer>", ...
    attr_reader :type
    # @return [Boolean] whether the column may hold nulls
    attr_reader :nullable
    # @return [Hash] the column's metadata
    attr_reader :metadata

    # @param name [String]
    # @param type [String] a Delta type name (see {#type})
    # @param nullable [Boolean]
    # @param metadata [Hash, nil]
    def initialize(name, type, nullable: true, metadata: nil)
      @name = name
      @type = type
      @nullable = nullable
      @metadata = metadata || {}
    end

    # @return [String]
    def inspect
      "<DeltaLake::Field name=#{name.inspect}, type=#{type.inspect}, nullable=#{nullable}>"
    end

    # @return [Boolean] whether both describe the same column
    def ==(other)
      other.is_a?(Field) && name == other.name && type == other.type && nullable == other.nullable
    end

    # The field as a Delta schema JSON object.
    # @return [Hash]
    def to_delta
      {"name" => name, "type" => Field.type_to_delta(type), "nullable" => nullable, "metadata" => metadata}
    end

    # @!visibility private
    # The Ruby type name of a Delta JSON type.
    def self.type_name(type)
      return type if type.is_a?(String)

      case type["type"]
      when "array" then "array<#{type_name(type["elementType"])}>"
      when "map" then "map<#{type_name(type["keyType"])}, #{type_name(type["valueType"])}>"
      when "struct" then "struct<#{type["fields"].map { |f| "#{f["name"]}: #{type_name(f["type"])}" }.join(", ")}>"
      else raise DeltaLake::Error, "unknown type #{type.inspect}"
      end
    end

    # @!visibility private
    # The Delta JSON type of a Ruby type name (primitives, decimals and arrays).
    def self.type_to_delta(name)
      if (m = /\Aarray<(.+)>\z/.match(name))
        {"type" => "array", "elementType" => type_to_delta(m[1]), "containsNull" => true}
      else
        name
      end
    end
  end
end
